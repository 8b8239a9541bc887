#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../io/file_read.h"
#include "image_codecs.h"
#include "image_limits.h"

/* Far above any encoded image under the pixel limit (2^28 RGB pixels is 768 MiB raw):
 * a bigger file is no image, and reading it would cost that much per loader thread. */
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
    switch (h.format) {
    case WB_IMG_JPEG: st = wb_decode_jpeg(bytes, n, &h, min_side, out, err, err_size); break;
    case WB_IMG_PNG: st = wb_decode_png(bytes, n, min_side, out, err, err_size); break;
    case WB_IMG_BMP: st = wb_decode_bmp(bytes, n, &h, out, err, err_size); break;
    case WB_IMG_TIFF: st = wb_decode_tiff(bytes, n, &h, out, err, err_size); break;
    default: st = wb_decode_webp(bytes, n, &h, out, err, err_size); break;
    }
    if (st == WB_OK) st = wb_image_apply_orientation(out, h.orientation, err, err_size);
    if (st != WB_OK) {
        wb_image_free(out);
        return st;
    }
    out->orig_width = h.width;
    out->orig_height = h.height;
    return WB_OK;
}

/* The first bytes of f: when they already show a file that is no image,
 * or one above the pixel limit, nothing more is read. */
static wb_status screen_header(FILE *f, size_t size, const wb_decode_opts *o, char *why, size_t why_size) {
    uint8_t head[65536];
    size_t got = fread(head, 1, size < sizeof head ? size : sizeof head, f);
    rewind(f);
    wb_image_header h;
    const char *bad = NULL;
    wb_header_result r = wb_image_header_parse(head, got, &h, &bad);
    if (r == WB_HDR_BAD) {
        snprintf(why, why_size, "%s", bad);
        return WB_ERR_IO;
    }
    return r == WB_HDR_OK ? check_size(&h, o, why, why_size) : WB_OK; /* NEED_MORE: the full parse decides */
}

/* The whole file, once it is known to be a regular file of a plausible size
 * holding an image within the limits. Messages are not prefixed. */
static wb_status read_image(FILE *f, const wb_decode_opts *o, uint8_t **bytes, size_t *n, char *why,
                            size_t why_size) {
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        snprintf(why, why_size, "cannot stat: %s", strerror(errno));
        return WB_ERR_IO;
    }
    size_t size = (size_t)sb.st_size;
    if (size > MAX_IMAGE_FILE_BYTES) {
        snprintf(why, why_size, "file of %zu bytes, larger than any image within the pixel limit; is it an image?",
                 size);
        return WB_ERR_UNSUPPORTED;
    }
    if (size == 0) {
        snprintf(why, why_size, "image is empty (0 bytes)");
        return WB_ERR_IO;
    }
    wb_status st = screen_header(f, size, o, why, why_size);
    if (st != WB_OK) return st;
    *bytes = malloc(size);
    if (!*bytes) {
        snprintf(why, why_size, "out of memory for %zu bytes", size);
        return WB_ERR_NOMEM;
    }
    *n = fread(*bytes, 1, size, f);
    if (*n != size) {
        snprintf(why, why_size, "read %zu of %zu bytes (changed while read?)", *n, size);
        free(*bytes);
        *bytes = NULL;
        return WB_ERR_IO;
    }
    return WB_OK;
}

wb_status wb_image_decode_file(const char *path, const wb_decode_opts *o, wb_image *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    FILE *f = wb_open_regular(path, err, err_size); /* FIFOs, devices and directories: refused, path named */
    if (!f) return WB_ERR_IO;
    uint8_t *bytes = NULL;
    size_t n = 0;
    char why[512];
    wb_status st = read_image(f, o, &bytes, &n, why, sizeof why);
    fclose(f);
    if (st == WB_OK) st = wb_image_decode_memory(bytes, n, o, out, why, sizeof why);
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
