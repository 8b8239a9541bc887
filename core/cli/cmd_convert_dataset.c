/* workbench convert-dataset --from FMT --to FMT SRC DST */
#include <stdio.h>
#include <string.h>
#include "app/convert_dataset.h"
#include "commands.h"

const char wb_help_convert_dataset[] =
    "Usage: workbench convert-dataset --from voc|yolo|coco --to coco|yolo|voc SRC DST [--split S] [--images DIR]\n"
    "                                 [--classes A,B,...]\n\n"
    "Converts detection annotations between formats without losing what both formats hold: the image list (file\n"
    "names, sizes), class names and order, every box in pixels (10 significant digits) and the crowd /\n"
    "difficult flag (COCO iscrowd <-> VOC difficult; YOLO has none: such boxes become plain boxes, with a\n"
    "warning). Images are not copied: VOC and YOLO outputs link to the source files.\n\n"
    "SRC and DST by format:\n"
    "  coco  an instances JSON file; its images are found in --images DIR (default: COCO's layout,\n"
    "        annotations/instances_NAME.json beside images/NAME/); output category ids are the source's\n"
    "        (1..K from VOC and YOLO, in class order)\n"
    "  voc   a root with Annotations/, JPEGImages/ and ImageSets/Main/S.txt (S: --split, default trainval;\n"
    "        without the file every Annotations/*.xml); classes.txt, when present, fixes the class order\n"
    "        (the output writes one), else names count in the order they first appear; --classes A,B,...\n"
    "        gives the order (an experiment's `classes`) and refuses objects of other classes. Image ids:\n"
    "        positions in the split from 0, as the voc dataset numbers them (so `eval --out` results match)\n"
    "  yolo  a data.yaml (names; the images of its --split entry, default train; labels/ beside images/);\n"
    "        output: DST/data.yaml, DST/images/S/, DST/labels/S/*.txt\n\n"
    "Exit 0 when converted, 1 when a file cannot be read or written, 2 on usage errors.\n\n"
    "Examples:\n"
    "  workbench convert-dataset --from voc --to coco ../shared/datasets/bccd bccd_trainval.json\n"
    "  workbench convert-dataset --from yolo --to voc ../shared/datasets/coco128/data.yaml /tmp/coco128_voc\n";

typedef wb_status (*reader_fn)(const char *, const cv_options *, cv_dataset *, char *, size_t);
typedef wb_status (*writer_fn)(const cv_dataset *, const char *, const cv_options *, char *, size_t);

static const struct {
    const char *name;
    reader_fn read;
    writer_fn write;
} formats[] = {
    {"coco", cv_read_coco, cv_write_coco},
    {"voc", cv_read_voc, cv_write_voc},
    {"yolo", cv_read_yolo, cv_write_yolo},
};

static int format_of(const char *name) {
    for (int i = 0; name && i < 3; i++)
        if (strcmp(formats[i].name, name) == 0) return i;
    return -1;
}

int wb_cmd_convert_dataset(const wb_cli *cli, int argc, char **argv) {
    (void)cli;
    const char *from = NULL, *to = NULL, *paths[2] = {NULL, NULL};
    cv_options o = {0};
    int n_paths = 0;
    for (int i = 1; i < argc; i++) {
        const char **slot = !strcmp(argv[i], "--from") ? &from : !strcmp(argv[i], "--to") ? &to
                          : !strcmp(argv[i], "--split") ? &o.split : !strcmp(argv[i], "--images") ? &o.images
                          : !strcmp(argv[i], "--classes") ? &o.classes : NULL;
        if (slot) {
            if (i + 1 >= argc) return wb_cli_usage_error("convert-dataset", "%s wants a value", argv[i]);
            *slot = argv[++i];
        } else if (argv[i][0] == '-') {
            return wb_cli_usage_error("convert-dataset", "unknown option '%s'", argv[i]);
        } else if (n_paths < 2) {
            paths[n_paths++] = argv[i];
        } else {
            return wb_cli_usage_error("convert-dataset", "expected SRC and DST, got a third path '%s'", argv[i]);
        }
    }
    int f = format_of(from), t = format_of(to);
    if (f < 0 || t < 0)
        return wb_cli_usage_error("convert-dataset", "--%s %s: the formats are coco, voc and yolo",
                                  f < 0 ? "from" : "to", f < 0 ? (from ? from : "(missing)") : (to ? to : "(missing)"));
    if (n_paths != 2) return wb_cli_usage_error("convert-dataset", "expected SRC and DST");
    cv_dataset d = {0};
    char err[1024] = "";
    wb_status st = formats[f].read(paths[0], &o, &d, err, sizeof err);
    if (st == WB_OK) st = formats[t].write(&d, paths[1], &o, err, sizeof err);
    if (st != WB_OK) {
        fprintf(stderr, "error: convert-dataset: %s\n", err);
        cv_dataset_free(&d);
        return WB_EXIT_FAILURE;
    }
    long boxes = 0;
    for (int i = 0; i < d.n_images; i++) boxes += d.images[i].n_boxes;
    printf("converted %d images, %ld boxes, %d classes: %s %s -> %s %s\n", d.n_images, boxes, d.n_classes, from,
           paths[0], to, paths[1]);
    cv_dataset_free(&d);
    return WB_EXIT_OK;
}
