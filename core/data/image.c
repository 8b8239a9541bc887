#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_codecs.h"

wb_status wb_image_load_memory(const uint8_t *bytes, size_t n, int min_side_hint, wb_image *out, char *err,
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
    wb_status st = h.format == WB_IMG_JPEG ? wb_decode_jpeg(bytes, n, &h, min_side_hint, out, err, err_size)
                                           : wb_decode_png(bytes, n, out, err, err_size);
    if (st == WB_OK) st = wb_image_apply_orientation(out, h.orientation, err, err_size);
    if (st != WB_OK) {
        wb_image_free(out);
        return st;
    }
    out->orig_width = h.width;
    out->orig_height = h.height;
    return WB_OK;
}

static wb_status read_whole_file(const char *path, uint8_t **bytes, size_t *n, char *err, size_t err_size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: cannot open (%s)", path, strerror(errno));
        return WB_ERR_IO;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, err_size, "%s: not a regular file", path);
        fclose(f);
        return WB_ERR_IO;
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        snprintf(err, err_size, "%s: out of memory for %zu bytes", path, size);
        fclose(f);
        return WB_ERR_NOMEM;
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        snprintf(err, err_size, "%s: read %zu of %zu bytes", path, got, size);
        free(buf);
        return WB_ERR_IO;
    }
    *bytes = buf;
    *n = size;
    return WB_OK;
}

wb_status wb_image_load_file(const char *path, int min_side_hint, wb_image *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    uint8_t *bytes = NULL;
    size_t n = 0;
    wb_status st = read_whole_file(path, &bytes, &n, err, err_size);
    if (st != WB_OK) return st;
    char why[512];
    st = wb_image_load_memory(bytes, n, min_side_hint, out, why, sizeof why);
    free(bytes);
    if (st != WB_OK) snprintf(err, err_size, "%s: %s", path, why);
    return st;
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
