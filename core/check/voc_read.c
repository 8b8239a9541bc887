#include "voc_read.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan_common.h"

/* A VOC file is ~1 KB with a few objects; these bound the parser's memory
 * (the same limits as the voc dataset plugin). */
#define VOC_MAX_XML_BYTES ((size_t)16 << 20)
#define VOC_MAX_OBJECTS 100000

typedef struct reader {
    XML_Parser parser;
    voc_doc *doc;
    voc_doc_object *obj;  /* inside <object> */
    bool in_size, in_bndbox;
    int depth;            /* of the element being read; the root <annotation> is 1 */
    const char *stop;     /* why the parse was stopped, NULL while it runs */
    char *field;          /* where character data goes, NULL: ignored */
    char flag[16];        /* text of <difficult> / <truncated> */
    size_t field_cap;
} reader;

static const char *const coord_names[4] = {"xmin", "ymin", "xmax", "ymax"};

static void stop(reader *rd, const char *why) {
    if (!rd->stop) rd->stop = why;
    XML_StopParser(rd->parser, XML_FALSE);
}

static void on_start(void *user, const char *el, const char **attrs) {
    (void)attrs;
    reader *rd = user;
    voc_doc *d = rd->doc;
    rd->field = NULL;
    /* Only the object's own children count: a <part> (person layout) has a <name> and <bndbox> too. */
    int level = ++rd->depth;
    if (level == 2 && strcmp(el, "object") == 0) {
        if (d->n_objects == VOC_MAX_OBJECTS) {
            stop(rd, "more than 100000 <object> elements; not a VOC annotation?");
            return;
        }
        if (d->n_objects == d->cap) {
            int cap = d->cap ? 2 * d->cap : 16;
            voc_doc_object *grown = realloc(d->objects, (size_t)cap * sizeof *grown);
            if (!grown) {
                stop(rd, "out of memory");
                return;
            }
            d->objects = grown;
            d->cap = cap;
        }
        rd->obj = &d->objects[d->n_objects++];
        memset(rd->obj, 0, sizeof *rd->obj);
        rd->obj->line = (int)XML_GetCurrentLineNumber(rd->parser);
    } else if (level == 2 && strcmp(el, "size") == 0) {
        rd->in_size = d->has_size = true;
    } else if (level == 3 && rd->obj && strcmp(el, "bndbox") == 0) {
        rd->in_bndbox = true;
    } else if (level == 3 && rd->in_size && strcmp(el, "width") == 0) {
        rd->field = d->width, rd->field_cap = sizeof d->width;
    } else if (level == 3 && rd->in_size && strcmp(el, "height") == 0) {
        rd->field = d->height, rd->field_cap = sizeof d->height;
    } else if (level == 3 && rd->obj && strcmp(el, "name") == 0) {
        rd->field = rd->obj->name, rd->field_cap = sizeof rd->obj->name;
    } else if (level == 4 && rd->in_bndbox) {
        for (int k = 0; k < 4; k++)
            if (strcmp(el, coord_names[k]) == 0) rd->field = rd->obj->coord[k], rd->field_cap = sizeof rd->obj->coord[k];
    }
    if (rd->field) rd->field[0] = '\0';
    /* difficult / truncated are read as integers at their end tag */
    if (level == 3 && rd->obj && (strcmp(el, "difficult") == 0 || strcmp(el, "truncated") == 0)) {
        rd->field = rd->flag, rd->field_cap = sizeof rd->flag;
        rd->flag[0] = '\0';
    }
}

static void on_text(void *user, const char *s, int len) {
    reader *rd = user;
    if (!rd->field) return;
    size_t used = strlen(rd->field);
    /* skip leading whitespace and newlines of pretty-printed files */
    while (used == 0 && len > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++, len--;
    size_t room = rd->field_cap - 1 - used;
    if ((size_t)len > room) { /* refused rather than truncated into another value */
        stop(rd, "an element's text is too long for its field (names 127 bytes, numbers 63)");
        return;
    }
    memcpy(rd->field + used, s, (size_t)len);
    rd->field[used + (size_t)len] = '\0';
}

static void on_end(void *user, const char *el) {
    reader *rd = user;
    int level = rd->depth--;
    if (rd->field == rd->flag && rd->obj && (strcmp(el, "difficult") == 0 || strcmp(el, "truncated") == 0)) {
        int v = strtol(rd->field, NULL, 10) != 0;
        if (el[0] == 'd') rd->obj->difficult = v;
        else rd->obj->truncated = v;
    }
    if (rd->field) { /* trailing whitespace */
        size_t n = strlen(rd->field);
        while (n && strchr(" \t\r\n", rd->field[n - 1])) rd->field[--n] = '\0';
    }
    rd->field = NULL;
    if (level == 2 && strcmp(el, "object") == 0) rd->obj = NULL;
    else if (level == 2 && strcmp(el, "size") == 0) rd->in_size = false;
    else if (level == 3 && strcmp(el, "bndbox") == 0) rd->in_bndbox = false;
}

bool voc_doc_read(const char *path, voc_doc *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    size_t n = 0;
    char why[512];
    char *text = wb_scan_read_file(path, &n, why, sizeof why);
    if (!text) {
        snprintf(err, err_size, "cannot read the file: %s", why);
        return false;
    }
    bool ok = voc_doc_parse(text, n, out, err, err_size);
    free(text);
    return ok;
}

/* expat (>= 2.4) refuses entity expansion bombs ("billion laughs") itself and
 * never reads external entities unless asked to. */
bool voc_doc_parse(const char *text, size_t n, voc_doc *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    if (n > VOC_MAX_XML_BYTES) {
        snprintf(err, err_size, "larger than %zu bytes; not a VOC annotation?", VOC_MAX_XML_BYTES);
        return false;
    }
    reader rd = {.parser = XML_ParserCreate(NULL), .doc = out};
    if (!rd.parser) {
        snprintf(err, err_size, "out of memory");
        return false;
    }
    XML_SetUserData(rd.parser, &rd);
    XML_SetElementHandler(rd.parser, on_start, on_end);
    XML_SetCharacterDataHandler(rd.parser, on_text);
    bool ok = XML_Parse(rd.parser, text, (int)n, XML_TRUE) == XML_STATUS_OK && !rd.stop;
    if (!ok)
        snprintf(err, err_size, "line %lu: %s", (unsigned long)XML_GetCurrentLineNumber(rd.parser),
                 rd.stop ? rd.stop : XML_ErrorString(XML_GetErrorCode(rd.parser)));
    XML_ParserFree(rd.parser);
    if (!ok) voc_doc_free(out);
    return ok;
}

void voc_doc_free(voc_doc *d) {
    free(d->objects);
    memset(d, 0, sizeof *d);
}
