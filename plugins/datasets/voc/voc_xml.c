#include "voc_xml.h"

#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_text.h"

#define MAX_DEPTH 16
/* A VOC file is ~1 KB with a few objects; these bound the parser's memory. */
#define VOC_MAX_XML_BYTES ((size_t)16 << 20)
#define VOC_MAX_OBJECTS 100000
/* Box coordinates and sizes beyond this are no picture's pixels (and would not fit a float). */
#define VOC_MAX_COORD 1e9

/* Parser state: the open element path and the text of the innermost one. */
typedef struct voc_parse {
    const char *stack[MAX_DEPTH];
    int depth;
    char text[256];
    size_t text_len;
    int text_overflow;  /* the element's text did not fit: refused, never truncated */
    voc_annotation *ann;
    int box_fields;     /* bit per bndbox coordinate seen in the current object */
    char err[256];
    XML_Parser parser;
} voc_parse;

static const char *const elements[] = {"annotation", "size", "width", "height", "object", "name",
                                       "difficult", "truncated", "bndbox", "xmin", "ymin", "xmax", "ymax",
                                       "other"};

static const char *intern(const char *name) {
    for (size_t i = 0; i + 1 < sizeof elements / sizeof elements[0]; i++)
        if (strcmp(name, elements[i]) == 0) return elements[i];
    return elements[sizeof elements / sizeof elements[0] - 1];
}

static int at(const voc_parse *p, const char *parent, const char *self) {
    return p->depth >= 2 && strcmp(p->stack[p->depth - 2], parent) == 0 && strcmp(p->stack[p->depth - 1], self) == 0;
}

static void fail(voc_parse *p, const char *fmt, const char *what) {
    if (!p->err[0])
        snprintf(p->err, sizeof p->err, fmt, what, (int)XML_GetCurrentLineNumber(p->parser));
    XML_StopParser(p->parser, XML_FALSE);
}

static void XMLCALL on_start(void *user, const XML_Char *name, const XML_Char **attrs) {
    (void)attrs;
    voc_parse *p = user;
    if (p->depth == MAX_DEPTH) {
        fail(p, "elements nested too deeply near <%s> (line %d)", name);
        return;
    }
    p->stack[p->depth++] = intern(name);
    p->text_len = 0;
    p->text_overflow = 0;
    if (p->depth == 2 && at(p, "annotation", "object")) {
        voc_annotation *a = p->ann;
        if (a->n_objects == VOC_MAX_OBJECTS) {
            fail(p, "more than 100000 <%s> elements (line %d); not a VOC annotation?", name);
            return;
        }
        if (a->n_objects == a->cap_objects) {
            int cap = a->cap_objects ? 2 * a->cap_objects : 32;
            voc_object *o = realloc(a->objects, sizeof *o * (size_t)cap);
            if (!o) {
                fail(p, "out of memory at <%s> (line %d)", name);
                return;
            }
            a->objects = o;
            a->cap_objects = cap;
        }
        memset(&a->objects[a->n_objects++], 0, sizeof(voc_object));
        p->box_fields = 0;
    }
}

static void XMLCALL on_text(void *user, const XML_Char *s, int len) {
    voc_parse *p = user;
    size_t room = sizeof p->text - 1 - p->text_len;
    size_t n = (size_t)len < room ? (size_t)len : room;
    memcpy(p->text + p->text_len, s, n);
    p->text_len += n;
    if (n < (size_t)len) p->text_overflow = 1;
}

/* The element's text as a number; fails on anything else (empty, "12px"). */
static int number(voc_parse *p, const char *what, double *v) {
    p->text[p->text_len] = '\0';
    if (p->text_overflow) {
        fail(p, "<%s> is longer than 255 characters (line %d)", what);
        return 0;
    }
    char *s = p->text, *end;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    errno = 0;
    *v = strtod(s, &end);
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') end++;
    if (end == s || *end || errno || !isfinite(*v)) {
        fail(p, "<%s> is not a number (line %d)", what);
        return 0;
    }
    if (*v > VOC_MAX_COORD || *v < -VOC_MAX_COORD) {
        fail(p, "<%s> is beyond +-1e9 pixels (line %d)", what);
        return 0;
    }
    return 1;
}

static void XMLCALL on_end(void *user, const XML_Char *name) {
    voc_parse *p = user;
    voc_annotation *a = p->ann;
    voc_object *o = a->n_objects ? &a->objects[a->n_objects - 1] : NULL;
    double v;
    static const char *const coords[4] = {"xmin", "ymin", "xmax", "ymax"};
    /* Only the object's own children count: a <part> (person layout) has a <name> and <bndbox> too. */
    int own = o && p->depth == 3 && strcmp(p->stack[1], "object") == 0;
    if (p->depth == 3 && at(p, "size", "width") && number(p, "width", &v)) a->width = (int)v;
    else if (p->depth == 3 && at(p, "size", "height") && number(p, "height", &v)) a->height = (int)v;
    else if (own && at(p, "object", "name") && (p->text_overflow || p->text_len >= sizeof o->name))
        fail(p, "<%s> is longer than 127 characters (line %d)", "name");
    else if (own && at(p, "object", "name")) {
        p->text[p->text_len] = '\0';
        char *cursor = p->text;
        char *trimmed = ds_next_line(&cursor);
        snprintf(o->name, sizeof o->name, "%s", trimmed ? trimmed : "");
    } else if (own && at(p, "object", "difficult") && number(p, "difficult", &v)) o->difficult = v != 0;
    else if (own && at(p, "object", "truncated") && number(p, "truncated", &v)) o->truncated = v != 0;
    else if (o && p->depth == 4 && strcmp(p->stack[1], "object") == 0 && strcmp(p->stack[2], "bndbox") == 0) {
        for (int k = 0; k < 4; k++) {
            if (strcmp(p->stack[p->depth - 1], coords[k]) == 0 && number(p, coords[k], &v)) {
                o->box[k] = (float)v;
                p->box_fields |= 1 << k;
            }
        }
    } else if (o && p->depth == 2 && at(p, "annotation", "object")) {
        if (!o->name[0]) fail(p, "<object> without <%s> (ends line %d)", "name");
        else if (p->box_fields != 15) fail(p, "<object> without a complete <%s> (ends line %d)", "bndbox");
    }
    (void)name;
    p->depth--;
    p->text_len = 0;
}

int voc_parse_file(const char *path, voc_annotation *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    size_t len = 0;
    char *text = ds_read_text(path, VOC_MAX_XML_BYTES, &len, err, err_size);
    if (!text) return 0;
    int ok = voc_parse_text(path, text, len, out, err, err_size);
    free(text);
    return ok;
}

/* expat (>= 2.4) refuses entity expansion bombs ("billion laughs") itself and
 * never reads external entities unless asked to. */
int voc_parse_text(const char *path, const char *text, size_t len, voc_annotation *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    if (len > VOC_MAX_XML_BYTES) {
        snprintf(err, err_size, "%s: larger than %zu bytes; not a VOC annotation?", path, VOC_MAX_XML_BYTES);
        return 0;
    }
    voc_parse p = {.ann = out};
    p.parser = XML_ParserCreate(NULL);
    if (!p.parser) {
        snprintf(err, err_size, "%s: out of memory creating an XML parser", path);
        return 0;
    }
    XML_SetUserData(p.parser, &p);
    XML_SetElementHandler(p.parser, on_start, on_end);
    XML_SetCharacterDataHandler(p.parser, on_text);
    int ok = XML_Parse(p.parser, text, (int)len, XML_TRUE) == XML_STATUS_OK && !p.err[0];
    if (!ok && p.err[0]) snprintf(err, err_size, "%s: %s", path, p.err);
    else if (!ok)
        snprintf(err, err_size, "%s: XML does not parse: %s (line %d)", path,
                 XML_ErrorString(XML_GetErrorCode(p.parser)), (int)XML_GetCurrentLineNumber(p.parser));
    XML_ParserFree(p.parser);
    if (!ok) voc_annotation_free(out);
    return ok;
}

void voc_annotation_free(voc_annotation *a) {
    free(a->objects);
    memset(a, 0, sizeof *a);
}
