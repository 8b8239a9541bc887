/* The one reader of COCO instances files, for training (the coco dataset
 * plugin), the dataset doctor and evaluation: it streams images, categories
 * and box annotations to a visitor without building a tree, so each caller
 * keeps only what it needs. libc only: compiled into the core and into the
 * plugin (see docs/architecture.md).
 *
 * Rules, the same for every caller: the JSON grammar, nesting at most
 * JSON_MAX_DEPTH deep, ids exact integers of at most 2^53 in magnitude, sizes
 * whole numbers, bbox and area finite numbers, each of "images", "categories"
 * and "annotations" at most once at the top level and no key twice in an entry. */
#ifndef WB_COCO_READER_H
#define WB_COCO_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum coco_section { COCO_TOP, COCO_IMAGES, COCO_CATEGORIES, COCO_ANNOTATIONS } coco_section;

typedef struct coco_problem {
    coco_section section;
    int64_t index;      /* of the entry in its section */
    char where[96];     /* e.g. "annotations[12].bbox"; "" at the top level */
    char what[200];
    int line, column;   /* 0: no position (the file could not be read) */
    bool syntax;        /* not JSON at all, rather than JSON breaking a rule */
} coco_problem;

/* "where: what at line L, column C". */
void coco_problem_text(const coco_problem *p, char *out, size_t n);

typedef struct coco_image_entry {
    int64_t id;
    const char *file_name;  /* NULL when absent */
    bool has_size;
    int width, height;
} coco_image_entry;

typedef struct coco_category_entry {
    int64_t id;
    const char *name;
} coco_category_entry;

typedef struct coco_annotation_entry {
    int64_t id, image_id, category_id;
    bool has_id, has_area, iscrowd;
    double bbox[4];  /* x, y, w, h as in the file */
    double area;
} coco_annotation_entry;

/* Keys a caller cannot do without, on top of images[].id, categories[].id and
 * name, annotations[].image_id, category_id and bbox. */
enum { COCO_NEED_FILE_NAME = 1, COCO_NEED_SIZE = 2, COCO_NEED_ANNOTATION_ID = 4 };

typedef struct coco_visitor {
    void *user;
    unsigned need;
    /* Called per good entry, in file order; false stops the read ("out of memory"). */
    bool (*image)(void *user, int64_t index, const coco_image_entry *e);
    bool (*category)(void *user, int64_t index, const coco_category_entry *e);
    bool (*annotation)(void *user, int64_t index, const coco_annotation_entry *e);
    /* An entry breaking a rule ends the read when this is NULL; otherwise it
     * is reported here and the read goes on without that entry. */
    bool (*bad_entry)(void *user, const coco_problem *p);
} coco_visitor;

enum { COCO_HAVE_IMAGES = 1, COCO_HAVE_CATEGORIES = 2, COCO_HAVE_ANNOTATIONS = 4 };

/* Reads a whole file held in memory (no byte order mark). Returns the
 * COCO_HAVE_ bits of the top-level arrays found, or -1 with *fatal set. */
int coco_parse(const char *text, size_t n, const coco_visitor *v, coco_problem *fatal);
/* The same on a file, mapped and given back to the kernel as it is read; a
 * file that cannot be read (missing, a FIFO, a directory, empty) is a fatal
 * problem without a position, its what naming the path. */
int coco_parse_file(const char *path, const coco_visitor *v, coco_problem *fatal);

/* For visitors collecting entries: makes room for item n in *items (doubling
 * *cap, 256 first). False when out of memory or past INT_MAX / 2 items. */
bool coco_grow(void **items, int *cap, int n, size_t elem);

#endif
