#include "image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/file_read.h"
#include "image_codecs.h"
#include "image_limits.h"

/* Far above any encoded image under the pixel limit (2^28 RGB pixels is 768 MiB raw). */
#define MAX_IMAGE_FILE_BYTES ((size_t)1 << 30)

static wb_status check_size(const wb_image_header *h, const wb_decode_opts *o, char *err, size_t err_size) {
    int64_t limit = o->max_pixels > 0 && o->max_pixels < WB_IMAGE_MAX_PIXELS ? o->max_pixels : WB_IMAGE_MAX_PIXELS;
    int64_t pixels = (int64_t)h->stored_width * h->stored_height;
    if (pixels <= limit) return WB_OK;
    if (o->limit_key && limit < WB_IMAGE_MAX_PIXELS)
        snprintf(err, err_size,
                 "image is %dx%d (%lld pixels), above %s = %lld; downscale the image or raise %s",
                 h->stored_width, h->stored_height, (long long)pixels, o->limit_key, (long long)limit,
                 o->limit_key);
    else
        snprintf(err, err_size, "image is %dx%d (%lld pixels), above the %lld-pixel limit; downscale the image",
                 h->stored_width, h->stored_height, (long long)pixels, (long long)limit);
    return WB_ERR_UNSUPPORTED;
}

wb_status wb_image_decode_memory(const uint8_t *bytes, size_t n, const wb_decode_opts *o, wb_image *out, char *err,
                                 size_t err_size) {
    memset(out, 0, sizeof *out);
    if (n == 0) {
        snprintf(err, err_size, "image is empty (0 bytes)");
        return WB_ERR_IO;
    }
    wb_image_header h;
    const char *why = NULL;
    wb_header_result r = wb_image_header_parse(bytes, n, &h, &why);
    if (r != WB_HDR_OK) {
        snprintf(err, err_size, "%s", r == WB_HDR_NEED_MORE ? "image ends inside its header (truncated)" : why);
        return WB_ERR_IO;
    }
    wb_status st = check_size(&h, o, err, err_size);
    if (st != WB_OK) return st;
    int64_t pixels = (int64_t)h.stored_width * h.stored_height;
    int min_side = pixels > o->shrink_above ? o->min_side : 0;
    st = h.format == WB_IMG_JPEG ? wb_decode_jpeg(bytes, n, &h, min_side, out, err, err_size)
                                 : wb_decode_png(bytes, n, min_side, out, err, err_size);
    if (st == WB_OK) st = wb_image_apply_orientation(out, h.orientation, err, err_size);
    if (st != WB_OK) {
        wb_image_free(out);
        return st;
    }
    out->orig_width = h.width;
    out->orig_height = h.height;
    return WB_OK;
}

wb_status wb_image_decode_file(const char *path, const wb_decode_opts *o, wb_image *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    size_t n = 0;
    /* wb_read_file refuses FIFOs, devices and directories, naming the path. */
    uint8_t *bytes = (uint8_t *)wb_read_file(path, MAX_IMAGE_FILE_BYTES, "image", &n, err, err_size);
    if (!bytes) return WB_ERR_IO;
    char why[512];
    wb_status st = wb_image_decode_memory(bytes, n, o, out, why, sizeof why);
    free(bytes);
    if (st != WB_OK) snprintf(err, err_size, "%s: %s", path, why);
    return st;
}

wb_status wb_image_load_memory(const uint8_t *bytes, size_t n, int min_side_hint, wb_image *out, char *err,
                               size_t err_size) {
    wb_decode_opts o = {.min_side = min_side_hint};
    return wb_image_decode_memory(bytes, n, &o, out, err, err_size);
}

wb_status wb_image_load_file(const char *path, int min_side_hint, wb_image *out, char *err, size_t err_size) {
    wb_decode_opts o = {.min_side = min_side_hint};
    return wb_image_decode_file(path, &o, out, err, err_size);
}

wb_status wb_image_probe_file(const char *path, int *width, int *height, char *err, size_t err_size) {
    wb_image_header h;
    const char *why = NULL;
    if (wb_image_header_read_file(path, &h, &why) != WB_HDR_OK) {
        snprintf(err, err_size, "%s: %s", path, why);
        return WB_ERR_IO;
    }
    *width = h.width;
    *height = h.height;
    return WB_OK;
}

void wb_image_free(wb_image *img) {
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->width = img->height = 0;
}
