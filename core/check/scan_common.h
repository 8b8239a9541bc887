/* Pieces every format scanner of `workbench check` shares: reading text files
 * the way users write them (UTF-8 BOM, CRLF), the full-decode image check,
 * the box checks, and making the --fix-to tree. */
#ifndef WB_CHECK_SCAN_COMMON_H
#define WB_CHECK_SCAN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include "data/image.h"
#include "report.h"

/* Annotation files larger than this are refused (the COCO train split is 450 MB). */
#define WB_SCAN_MAX_FILE ((size_t)4 << 30)

/* The whole regular file, NUL-terminated, a leading UTF-8 BOM removed; NULL
 * with "PATH: why" in err when it cannot be read (a FIFO or a directory is
 * refused, not waited on). */
char *wb_scan_read_file(const char *path, size_t *size, char *err, size_t err_size);
/* The same without the reason. */
char *wb_scan_read_text(const char *path, size_t *size);
/* The next line of *cursor (NUL-terminated in place, trailing '\r' removed);
 * NULL at the end. */
char *wb_scan_next_line(char **cursor);

/* dir + "/" + name, malloc'ed ("name" alone when dir is empty). */
char *wb_scan_join(const char *dir, const char *name);
/* mkdir -p of path's parent folders (path itself is a file). false on failure. */
bool wb_scan_make_parents(const char *path);

/* Decodes the whole image. Reports a missing file or a decode failure
 * against `where` and returns false; else true with the displayed size. */
bool wb_scan_image(wb_check_report *r, const char *path, const char *where, int *width, int *height);
/* How the doctor decodes: it needs to know an image decodes and its size, so
 * large images decode shrunk (every byte is still read and checked) and a
 * huge one costs megabytes, not gigabytes. The size is orig_width/height. */
extern const wb_decode_opts wb_scan_decode_opts;

typedef enum wb_box_verdict { WB_BOX_OK = 0, WB_BOX_CLIP, WB_BOX_DROP } wb_box_verdict;

/* x1 y1 x2 y2 in pixels against an image of width x height (0: unknown, no
 * bounds check). Reports NaN, empty and outside boxes; a box partly outside
 * can be clipped, one with no area inside the image must be dropped. */
wb_box_verdict wb_scan_box(wb_check_report *r, const char *where, const double box[4], int width, int height);
/* Clips box to the image in place. */
void wb_scan_clip_box(double box[4], int width, int height);

#endif
