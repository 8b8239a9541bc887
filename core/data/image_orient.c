/* EXIF orientation: the stored pixels are remapped so the image displays
 * upright, with PIL's ImageOps.exif_transpose semantics per tag value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_codecs.h"

/* Source pixel of output pixel (x, y) for a w x h stored image. */
static void source_of(int orientation, int x, int y, int w, int h, int *sx, int *sy) {
    switch (orientation) {
    case 2: *sx = w - 1 - x; *sy = y; break;                 /* mirror left-right */
    case 3: *sx = w - 1 - x; *sy = h - 1 - y; break;         /* rotate 180 */
    case 4: *sx = x; *sy = h - 1 - y; break;                 /* mirror top-bottom */
    case 5: *sx = y; *sy = x; break;                         /* transpose */
    case 6: *sx = y; *sy = h - 1 - x; break;                 /* rotate 90 clockwise */
    case 7: *sx = w - 1 - y; *sy = h - 1 - x; break;         /* transverse */
    case 8: *sx = w - 1 - y; *sy = x; break;                 /* rotate 90 counter-clockwise */
    default: *sx = x; *sy = y; break;
    }
}

wb_status wb_image_apply_orientation(wb_image *img, int orientation, char *err, size_t err_size) {
    if (orientation <= 1 || orientation > 8) return WB_OK;
    int w = img->width, h = img->height;
    int ow = orientation >= 5 ? h : w, oh = orientation >= 5 ? w : h;
    uint8_t *dst = malloc((size_t)ow * oh * 3);
    if (!dst) {
        snprintf(err, err_size, "out of memory applying EXIF orientation %d", orientation);
        return WB_ERR_NOMEM;
    }
    for (int y = 0; y < oh; y++) {
        for (int x = 0; x < ow; x++) {
            int sx, sy;
            source_of(orientation, x, y, w, h, &sx, &sy);
            memcpy(dst + ((size_t)y * ow + x) * 3, img->rgb + ((size_t)sy * w + sx) * 3, 3);
        }
    }
    free(img->rgb);
    img->rgb = dst;
    img->width = ow;
    img->height = oh;
    return WB_OK;
}
