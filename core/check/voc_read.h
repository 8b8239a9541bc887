/* A Pascal VOC annotation as the doctor needs it: every object as written
 * (name and box text unvalidated), the line it starts on, and whether
 * <size> was there. Parsed with expat. */
#ifndef WB_CHECK_VOC_READ_H
#define WB_CHECK_VOC_READ_H

#include <stdbool.h>
#include <stddef.h>

typedef struct voc_doc_object {
    char name[128];
    char coord[4][64];  /* xmin ymin xmax ymax text, "" when absent */
    int difficult, truncated;
    int line;
} voc_doc_object;

typedef struct voc_doc {
    bool has_size;
    char width[32], height[32];
    voc_doc_object *objects;
    int n_objects, cap;
} voc_doc;

/* false with err (including the line for XML syntax errors) when the file
 * cannot be read or does not parse. */
bool voc_doc_read(const char *path, voc_doc *out, char *err, size_t err_size);
/* The same on a file's text. */
bool voc_doc_parse(const char *text, size_t n, voc_doc *out, char *err, size_t err_size);
void voc_doc_free(voc_doc *d);

#endif
