#include "scan_common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "data/image.h"
#include "data/image_limits.h"
#include "io/file_read.h"

/* Boxes may overhang the border by this much (float rounding in exported
 * annotations) before they count as outside. */
#define BORDER_SLACK 0.01

char *wb_scan_read_file(const char *path, size_t *size, char *err, size_t err_size) {
    size_t n = 0;
    char *buf = wb_read_file(path, WB_SCAN_MAX_FILE, "annotation file", &n, err, err_size);
    if (!buf) return NULL;
    if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        memmove(buf, buf + 3, n - 2);
        n -= 3;
    }
    if (size) *size = n;
    return buf;
}

char *wb_scan_read_text(const char *path, size_t *size) {
    char err[512];
    return wb_scan_read_file(path, size, err, sizeof err);
}

char *wb_scan_next_line(char **cursor) {
    char *line = *cursor;
    if (!line || !*line) return NULL;
    char *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = line + strlen(line);
    }
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r') line[len - 1] = '\0';
    return line;
}

char *wb_scan_join(const char *dir, const char *name) {
    size_t nd = dir ? strlen(dir) : 0, nn = strlen(name);
    char *out = malloc(nd + nn + 2);
    if (!out) return NULL;
    if (nd == 0 || name[0] == '/') memcpy(out, name, nn + 1);
    else snprintf(out, nd + nn + 2, "%s%s%s", dir, dir[nd - 1] == '/' ? "" : "/", name);
    return out;
}

bool wb_scan_make_parents(const char *path) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return false;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return false;
        *p = '/';
    }
    return true;
}

const wb_decode_opts wb_scan_decode_opts = {.min_side = 64, .shrink_above = WB_IMAGE_SHRINK_ABOVE};

bool wb_scan_image(wb_check_report *r, const char *path, const char *where, int *width, int *height) {
    if (access(path, F_OK) != 0) {
        wb_check_add(r, WB_DEFECT_MISSING_IMAGE, where, "no file %s", path);
        return false;
    }
    wb_image img;
    char err[512];
    if (wb_image_decode_file(path, &wb_scan_decode_opts, &img, err, sizeof err) != WB_OK) {
        /* err starts with the path: once is enough when `where` is the path too */
        size_t n = strlen(path);
        bool named = strcmp(where, path) == 0 && strncmp(err, path, n) == 0 && err[n] == ':';
        wb_check_add(r, WB_DEFECT_BAD_IMAGE, where, "%s", named ? err + n + 1 + (err[n + 1] == ' ') : err);
        return false;
    }
    *width = img.orig_width;
    *height = img.orig_height;
    wb_image_free(&img);
    return true;
}

wb_box_verdict wb_scan_box(wb_check_report *r, const char *where, const double b[4], int width, int height) {
    for (int k = 0; k < 4; k++)
        if (!isfinite(b[k])) {
            wb_check_add(r, WB_DEFECT_BOX_NAN, where, "box [%g %g %g %g] has a non-finite coordinate", b[0], b[1],
                         b[2], b[3]);
            return WB_BOX_DROP;
        }
    if (b[2] <= b[0] || b[3] <= b[1]) {
        wb_check_add(r, WB_DEFECT_BOX_EMPTY, where, "box [%g %g %g %g] has width %g and height %g", b[0], b[1], b[2],
                     b[3], b[2] - b[0], b[3] - b[1]);
        return WB_BOX_DROP;
    }
    if (width <= 0 || height <= 0) return WB_BOX_OK;
    if (b[0] >= -BORDER_SLACK && b[1] >= -BORDER_SLACK && b[2] <= width + BORDER_SLACK &&
        b[3] <= height + BORDER_SLACK)
        return WB_BOX_OK;
    wb_check_add(r, WB_DEFECT_BOX_OUTSIDE, where, "box [%g %g %g %g] runs past the %dx%d image", b[0], b[1], b[2],
                 b[3], width, height);
    bool no_overlap = b[2] <= 0 || b[3] <= 0 || b[0] >= width || b[1] >= height;
    return no_overlap ? WB_BOX_DROP : WB_BOX_CLIP;
}

void wb_scan_clip_box(double b[4], int width, int height) {
    b[0] = fmax(0.0, fmin(b[0], width));
    b[2] = fmax(0.0, fmin(b[2], width));
    b[1] = fmax(0.0, fmin(b[1], height));
    b[3] = fmax(0.0, fmin(b[3], height));
}
