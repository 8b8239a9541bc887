/* YOLO txt labels: one "class cx cy w h" line per object, normalized to the
 * image size; polygon lines ("class x1 y1 x2 y2 ...", YOLOv5 segments) are
 * reduced to their bounding box. */
#ifndef WB_YOLO_LABELS_H
#define WB_YOLO_LABELS_H

#include <stddef.h>

/* Label file of an image by the images/ -> labels/ convention (the last
 * "/images/" component replaced, extension replaced by .txt). */
char *yolo_label_path(const char *image_path);

/* Parses one line. Returns 1 with class and normalized cx, cy, w, h; 0 for
 * an empty line; -1 for a malformed one with why set (static string). */
int yolo_parse_line(char *line, int num_classes, int *cls, float box[4], const char **why);

/* Class names from a file: one name per line, or a YOLO data.yaml with a
 * `names:` block of "  N: name" lines or a `names: [a, b]` list. NULL with
 * *n = 0 when the file has none. */
char **yolo_read_names(const char *path, int *n);

#endif
