/* YOLO txt labels: one "class cx cy w h" line per object, normalized to the
 * image size; polygon lines ("class x1 y1 x2 y2 ...", YOLOv5 segments) are
 * reduced to their bounding box. */
#ifndef WB_YOLO_LABELS_H
#define WB_YOLO_LABELS_H

#include <stddef.h>

/* A label file above this is refused: at ~14 bytes a line that is 300k boxes
 * for one image already; the data loader caps boxes per image further. */
#define YOLO_MAX_LABEL_BYTES ((size_t)4 << 20)
/* Normalized coordinates beyond this are garbage (and would not fit a float in pixels). */
#define YOLO_MAX_COORD 1e6

/* Label file of an image by the images/ -> labels/ convention (the last
 * "/images/" component replaced, extension replaced by .txt). */
char *yolo_label_path(const char *image_path);

/* Parses one line. Returns 1 with class and normalized cx, cy, w, h; 0 for
 * an empty line; -1 for a malformed one with why set (static string). */
int yolo_parse_line(char *line, int num_classes, int *cls, float box[4], const char **why);

/* Class names from a names file (core/formats/yolo/yolo_names.h: a data.yaml
 * or one name per line). NULL with *n = 0 and "PATH: why" in err when the
 * file cannot be read or has no valid names. */
char **yolo_read_names(const char *path, int *n, char *err, size_t err_size);

#endif
