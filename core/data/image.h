/* Image decoding for the data pipeline: JPEG (libjpeg-turbo), PNG
 * (libpng), BMP (stb_image), TIFF (libtiff) and WebP (libwebp) to 8-bit RGB, EXIF orientation applied, pixels matching PIL's
 * Image.open(p).convert('RGB') after ImageOps.exif_transpose.
 *
 * Corrupt data is an error, never a partial image: libjpeg-turbo warnings
 * (truncated file, corrupt entropy data, extraneous bytes) fail the decode
 * with the warning's text, because a half-grey training image is worse than
 * a skipped one; the loader decides whether to skip or stop. */
#ifndef WB_DATA_IMAGE_H
#define WB_DATA_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <workbench/types.h>

typedef struct wb_image {
    int width, height;           /* of rgb (after DCT scaling and orientation) */
    int orig_width, orig_height; /* full-resolution size after orientation */
    uint8_t *rgb;                /* HWC RGB, malloc'ed */
} wb_image;

/* How to decode for the loader. */
typedef struct wb_decode_opts {
    /* > 0: images of more than shrink_above pixels may decode smaller (JPEG
     * DCT scaling, PNG rows box-filtered as they stream in) while their
     * shorter side still covers min_side, so the full-resolution pixels never
     * exist. Smaller images decode exactly, as the reference pipelines do. */
    int min_side;
    int64_t shrink_above;
    /* Stored width x height above this is refused; 0: WB_IMAGE_MAX_PIXELS.
     * limit_key names the setting that raises it (for the message), or NULL. */
    int64_t max_pixels;
    const char *limit_key;
} wb_decode_opts;

/* Messages of the file variant start with the path; the others do not. */
wb_status wb_image_decode_file(const char *path, const wb_decode_opts *o, wb_image *out, char *err, size_t err_size);
wb_status wb_image_decode_memory(const uint8_t *bytes, size_t n, const wb_decode_opts *o, wb_image *out, char *err,
                                 size_t err_size);

/* The same with defaults: min_side_hint > 0 lets the decoder shrink any
 * image (JPEG: DCT scaling 1/2, 1/4, 1/8) while its shorter side still
 * covers min_side_hint; 0 = full size. EXIF orientation is applied. */
wb_status wb_image_load_file(const char *path, int min_side_hint, wb_image *out, char *err, size_t err_size);
wb_status wb_image_load_memory(const uint8_t *bytes, size_t n, int min_side_hint, wb_image *out, char *err,
                               size_t err_size);
/* Size after orientation, from the header only. */
wb_status wb_image_probe_file(const char *path, int *width, int *height, char *err, size_t err_size);
void wb_image_free(wb_image *img);

#endif
