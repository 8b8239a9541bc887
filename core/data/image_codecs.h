/* Decoders behind wb_image_load_memory; each fills img at stored size and
 * orientation 1 and writes a message to err on failure. */
#ifndef WB_DATA_IMAGE_CODECS_H
#define WB_DATA_IMAGE_CODECS_H

#include "image.h"
#include "image_header.h"

wb_status wb_decode_jpeg(const uint8_t *bytes, size_t n, const wb_image_header *h, int min_side_hint,
                         wb_image *img, char *err, size_t err_size);
/* min_side > 0: box-filter rows by the largest integer factor that keeps the
 * shorter side >= min_side while they stream in (not interlaced PNGs). */
wb_status wb_decode_png(const uint8_t *bytes, size_t n, int min_side, wb_image *img, char *err, size_t err_size);

/* BMP (stb_image), TIFF (libtiff) and WebP (libwebp) at stored size; h is
 * the parsed header, whose size the bitstream must match. */
wb_status wb_decode_bmp(const uint8_t *bytes, size_t n, const wb_image_header *h, wb_image *img, char *err,
                        size_t err_size);
wb_status wb_decode_tiff(const uint8_t *bytes, size_t n, const wb_image_header *h, wb_image *img, char *err,
                         size_t err_size);
wb_status wb_decode_webp(const uint8_t *bytes, size_t n, const wb_image_header *h, wb_image *img, char *err,
                         size_t err_size);

/* Rewrites img (w x h RGB) so it displays upright for EXIF orientation 2..8,
 * as PIL's ImageOps.exif_transpose. */
wb_status wb_image_apply_orientation(wb_image *img, int orientation, char *err, size_t err_size);

#endif
