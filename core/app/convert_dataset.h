/* `workbench convert-dataset`: COCO, Pascal VOC and YOLO annotations read
 * into one in-memory form and written in another. Nothing is lost that two
 * of the formats share: the image list (files, sizes), the class names and
 * order, every box in pixels (printed with 10 significant digits) and the
 * ignore flag (COCO iscrowd, VOC difficult; YOLO has none: such boxes are
 * kept as plain boxes and counted in a warning). Images are referenced, not
 * copied: VOC and YOLO outputs link to the source files. */
#ifndef WB_APP_CONVERT_DATASET_H
#define WB_APP_CONVERT_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <workbench/types.h>

typedef struct cv_box {
    int label;               /* index into classes */
    double x1, y1, x2, y2;   /* pixels of the image */
    bool ignore;             /* COCO iscrowd, VOC difficult */
} cv_box;

typedef struct cv_image {
    char *name;              /* file name as the format records it (relative to the images folder) */
    char *path;              /* the image file, as found (for links) */
    int width, height;
    int64_t id;              /* COCO image id; without one, the position (0-based, as the voc and yolo
                              * dataset plugins number images: `eval --out` results match the conversion) */
    cv_box *boxes;
    int n_boxes, cap;
} cv_image;

typedef struct cv_dataset {
    char **classes;
    int64_t *class_ids;      /* COCO category ids (1..K when the source has none) */
    int n_classes;
    cv_image *images;
    int n_images, cap;
} cv_dataset;

typedef struct cv_options {
    const char *split;       /* voc: ImageSets/Main/<split>.txt; yolo: data.yaml entry; output split name */
    const char *images;      /* coco input: the folder file_name values are relative to */
    const char *classes;     /* voc input: "a,b,c", the class order (as the experiment's `classes`) */
} cv_options;

/* Readers: SRC is a COCO instances JSON, a VOC root (Annotations/, JPEGImages/,
 * ImageSets/Main/) or a YOLO data.yaml. Writers: DST is a JSON file (coco) or
 * a folder (voc, yolo). WB_OK, or a status with the message in err. */
wb_status cv_read_coco(const char *src, const cv_options *o, cv_dataset *d, char *err, size_t n);
wb_status cv_read_voc(const char *src, const cv_options *o, cv_dataset *d, char *err, size_t n);
wb_status cv_read_yolo(const char *src, const cv_options *o, cv_dataset *d, char *err, size_t n);
wb_status cv_write_coco(const cv_dataset *d, const char *dst, const cv_options *o, char *err, size_t n);
wb_status cv_write_voc(const cv_dataset *d, const char *dst, const cv_options *o, char *err, size_t n);
wb_status cv_write_yolo(const cv_dataset *d, const char *dst, const cv_options *o, char *err, size_t n);

/* Building the form. */
cv_image *cv_add_image(cv_dataset *d, const char *name, const char *path, int width, int height, int64_t id);
bool cv_add_box(cv_image *im, int label, double x1, double y1, double x2, double y2, bool ignore);
/* The label of a class name, added at the end when new (VOC, whose classes are the names met); -1 when out of memory. */
int cv_class(cv_dataset *d, const char *name, int64_t id);
void cv_dataset_free(cv_dataset *d);

/* Helpers of the readers and writers: a malloc'ed "dir/name"; mkdir -p; a
 * symlink dst -> src (absolute), replacing an older link. */
char *cv_join(const char *dir, const char *name);
bool cv_mkdirs(const char *path, char *err, size_t n);
bool cv_link(const char *src, const char *dst, char *err, size_t n);
/* The file name without folder and extension, malloc'ed. */
char *cv_stem(const char *name);

#endif
