/* One Pascal VOC annotation file parsed with expat. */
#ifndef WB_VOC_XML_H
#define WB_VOC_XML_H

#include <stddef.h>

typedef struct voc_object {
    char name[128];
    float box[4];       /* xmin ymin xmax ymax as written (see voc.c for the convention) */
    int difficult;      /* 0 when the element is absent, as mmdetection */
    int truncated;
} voc_object;

typedef struct voc_annotation {
    int width, height;  /* 0 when <size> is absent */
    voc_object *objects;
    int n_objects, cap_objects;
} voc_annotation;

/* Parses an XML file. On failure returns 0 and writes why (with line number
 * for XML syntax errors, or the missing element) into err. */
int voc_parse_file(const char *path, voc_annotation *out, char *err, size_t err_size);
/* The same on a file's text (path only names it in messages). */
int voc_parse_text(const char *path, const char *text, size_t len, voc_annotation *out, char *err, size_t err_size);
void voc_annotation_free(voc_annotation *a);

#endif
