/* Reads a COCO instances file with the coco plugin's pull parser and prints
 * what it kept; bench/data/coco_load.sh times it (not a test). */
#include <stdio.h>

#include "coco_json.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s instances.json\n", argv[0]);
        return 2;
    }
    coco_file f;
    char err[512];
    if (!coco_read(argv[1], &f, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%lld images, %d categories, %lld annotations\n", (long long)f.n_images, f.n_categories,
           (long long)f.n_annotations);
    coco_file_free(&f);
    return 0;
}
