/* Image decoding for the data pipeline: JPEG (libjpeg-turbo) and PNG
 * (libpng) to 8-bit RGB, EXIF orientation applied, pixels matching PIL's
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

/* min_side_hint > 0 lets the JPEG decoder use DCT-domain scaling (1/2, 1/4, 1/8) while the decoded image
   still covers min_side_hint on its shorter side; 0 = full size. EXIF orientation is applied. */
wb_status wb_image_load_file(const char *path, int min_side_hint, wb_image *out, char *err, size_t err_size);
wb_status wb_image_load_memory(const uint8_t *bytes, size_t n, int min_side_hint, wb_image *out, char *err,
                               size_t err_size);
/* Size after orientation, from the header only. */
wb_status wb_image_probe_file(const char *path, int *width, int *height, char *err, size_t err_size);
void wb_image_free(wb_image *img);

#endif
