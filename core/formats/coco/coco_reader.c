#include "coco_reader.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_map.h"
#include "json_pull.h"

typedef struct reader {
    json_pull j;
    bool droppable;  /* the text is a file mapping (json_drop_consumed) */
    const coco_visitor *v;
    coco_problem *fatal;
} reader;

static const char *const section_name[] = {"", "images", "categories", "annotations", NULL};

/* One entry being read: its first problem, and where the current value starts. */
typedef struct entry {
    reader *r;
    coco_section section;
    int64_t index;
    unsigned seen;  /* bit per known key */
    bool bad;
    coco_problem problem;
    int value_line, value_column;
    char text[4096];  /* file_name or name */
} entry;

void coco_problem_text(const coco_problem *p, char *out, size_t n) {
    if (p->line > 0)
        snprintf(out, n, "%s%s%s at line %d, column %d", p->where, p->where[0] ? ": " : "", p->what, p->line,
                 p->column);
    else
        snprintf(out, n, "%s%s%s", p->where, p->where[0] ? ": " : "", p->what);
}

/* index < 0: the section itself. */
static void set_where(coco_problem *p, coco_section s, int64_t index, const char *key) {
    p->section = s;
    p->index = index;
    if (index < 0) snprintf(p->where, sizeof p->where, "%s", section_name[s]);
    else if (s == COCO_TOP) snprintf(p->where, sizeof p->where, "%s", key);
    else snprintf(p->where, sizeof p->where, "%s[%lld]%s%s", section_name[s], (long long)index, *key ? "." : "", key);
}

/* A syntax error (or the depth limit) from the pull parser ends the read. */
static bool fail_syntax(reader *r, coco_section s, int64_t index) {
    if (!r->fatal->what[0]) {
        set_where(r->fatal, s, index, "");
        snprintf(r->fatal->what, sizeof r->fatal->what, "%s", r->j.err_what);
        r->fatal->line = r->j.err_line, r->fatal->column = r->j.err_column;
        r->fatal->syntax = !r->j.err_limit;
    }
    return false;
}

/* Valid JSON that breaks a COCO rule at the top level ends the read. */
static bool fail_rule(reader *r, const char *key, const char *what) {
    set_where(r->fatal, COCO_TOP, 0, key);
    snprintf(r->fatal->what, sizeof r->fatal->what, "%s", what);
    r->fatal->line = r->j.line, r->fatal->column = (int)(r->j.p - r->j.line_start) + 1;
    r->fatal->syntax = false;
    json_fail(&r->j, what);
    return false;
}

static void mark_value(entry *e) {
    json_peek(&e->r->j);
    e->value_line = e->r->j.line;
    e->value_column = (int)(e->r->j.p - e->r->j.line_start) + 1;
}

/* The entry's first problem; the value in question is skipped by the caller. */
__attribute__((format(printf, 3, 4))) static void problem(entry *e, const char *key, const char *fmt, ...) {
    if (e->bad) return;
    e->bad = true;
    set_where(&e->problem, e->section, e->index, key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->problem.what, sizeof e->problem.what, fmt, ap);
    va_end(ap);
    e->problem.line = e->value_line, e->problem.column = e->value_column;
    e->problem.syntax = false;
}

/* Skips a value of the wrong type; false on a syntax error inside it. */
static bool wrong_type(entry *e, const char *key, const char *expected) {
    problem(e, key, "expected %s", expected);
    return json_skip(&e->r->j);
}

/* A number token as written, cut to fit a message. */
static const char *shown(char buf[48], const char *tok, size_t len) {
    snprintf(buf, 48, "%.*s%s", len > 40 ? 40 : (int)len, tok, len > 40 ? "..." : "");
    return buf;
}

static bool read_id(entry *e, const char *key, int64_t *out) {
    const char *tok;
    size_t len;
    char buf[48];
    if (json_peek(&e->r->j) != JSON_NUMBER) return wrong_type(e, key, "a number");
    if (!json_number_token(&e->r->j, &tok, &len)) return false;
    if (!json_token_id(tok, len, out))
        problem(e, key, "%s is not an integer id (a whole number of at most 2^53)", shown(buf, tok, len));
    return true;
}

static bool read_size(entry *e, const char *key, int *out) {
    const char *tok;
    size_t len;
    char buf[48];
    int64_t v = -1;
    if (json_peek(&e->r->j) != JSON_NUMBER) return wrong_type(e, key, "a number");
    if (!json_number_token(&e->r->j, &tok, &len)) return false;
    if (!json_token_id(tok, len, &v) || v < 0 || v > INT_MAX)
        problem(e, key, "%s is not a whole number of pixels", shown(buf, tok, len));
    else
        *out = (int)v;
    return true;
}

static bool read_double(entry *e, const char *key, double *out) {
    const char *tok;
    size_t len;
    if (json_peek(&e->r->j) != JSON_NUMBER) return wrong_type(e, key, "a number");
    if (!json_number_token(&e->r->j, &tok, &len)) return false;
    if (!json_token_double(tok, len, out)) problem(e, key, "number out of range");
    return true;
}

static bool read_text(entry *e, const char *key) {
    if (json_peek(&e->r->j) != JSON_STRING) return wrong_type(e, key, "a string");
    long n = json_string(&e->r->j, e->text, sizeof e->text);
    if (n < 0) return false;
    if ((size_t)n >= sizeof e->text) problem(e, key, "longer than %zu bytes", sizeof e->text - 1);
    else if (strlen(e->text) != (size_t)n) problem(e, key, "contains a NUL character (\\u0000)");
    return true;
}

/* Box coordinates beyond this are no picture's pixels (and would not fit a float). */
#define COCO_MAX_COORD 1e9

static bool read_bbox(entry *e, double box[4]) {
    json_pull *j = &e->r->j;
    if (json_peek(j) != JSON_ARRAY) return wrong_type(e, "bbox", "an array of 4 numbers");
    if (!json_array_begin(j)) return false;
    int n = 0;
    while (json_array_next(j)) {
        if (n < 4 && json_peek(j) == JSON_NUMBER) {
            if (!read_double(e, "bbox", &box[n])) return false;
            if (box[n] > COCO_MAX_COORD || box[n] < -COCO_MAX_COORD)
                problem(e, "bbox", "expected an array of 4 numbers within +-1e9");
        } else {
            if (n < 4) problem(e, "bbox", "expected an array of 4 numbers (bbox[%d] is not a number)", n);
            else problem(e, "bbox", "expected an array of 4 numbers, not more");
            if (!json_skip(j)) return false;
        }
        n++;
    }
    if (json_failed(j)) return false;
    if (n != 4) problem(e, "bbox", "expected an array of 4 numbers");
    return true;
}

static bool read_crowd(entry *e, bool *out) {
    json_kind k = json_peek(&e->r->j);
    if (k == JSON_BOOL) return json_bool(&e->r->j, out);
    double v = 0;
    if (k != JSON_NUMBER) return wrong_type(e, "iscrowd", "0, 1, true or false");
    if (!read_double(e, "iscrowd", &v)) return false;
    *out = v != 0;
    return true;
}

static int key_index(const char *key, const char *const *keys) {
    for (int k = 0; keys[k]; k++)
        if (strcmp(key, keys[k]) == 0) return k;
    return -1;
}

/* Reads the value of key k of an entry; false on a syntax error. */
typedef bool (*field_reader)(entry *e, int k, const char *key, void *out);

static bool image_field(entry *e, int k, const char *key, void *out) {
    coco_image_entry *im = out;
    switch (k) {
    case 0: return read_id(e, key, &im->id);
    case 1: im->file_name = e->text; return read_text(e, key);
    case 2: return read_size(e, key, &im->width);
    default: return read_size(e, key, &im->height);
    }
}

static bool category_field(entry *e, int k, const char *key, void *out) {
    coco_category_entry *c = out;
    if (k == 0) return read_id(e, key, &c->id);
    c->name = e->text;
    return read_text(e, key);
}

static bool annotation_field(entry *e, int k, const char *key, void *out) {
    coco_annotation_entry *a = out;
    switch (k) {
    case 0: return read_id(e, key, &a->image_id);
    case 1: return read_id(e, key, &a->category_id);
    case 2: return read_bbox(e, a->bbox);
    case 3: a->has_id = true; return read_id(e, key, &a->id);
    case 4: a->has_area = true; return read_double(e, key, &a->area);
    default: return read_crowd(e, &a->iscrowd);
    }
}

typedef struct section_rules {
    const char *const *keys;  /* NULL-terminated */
    unsigned required;        /* bit per key */
    field_reader read;
} section_rules;

static const char *const image_keys[] = {"id", "file_name", "width", "height", NULL};
static const char *const category_keys[] = {"id", "name", NULL};
static const char *const annotation_keys[] = {"image_id", "category_id", "bbox", "id", "area", "iscrowd", NULL};

static section_rules rules_for(coco_section s, unsigned need) {
    switch (s) {
    case COCO_IMAGES:
        return (section_rules){image_keys, 1u | (need & COCO_NEED_FILE_NAME ? 2u : 0) | (need & COCO_NEED_SIZE ? 12u : 0),
                               image_field};
    case COCO_CATEGORIES: return (section_rules){category_keys, 3u, category_field};
    default: return (section_rules){annotation_keys, 7u | (need & COCO_NEED_ANNOTATION_ID ? 8u : 0), annotation_field};
    }
}

/* One entry of a section into out; false on a syntax error. */
static bool read_entry(entry *e, const section_rules *rules, void *out) {
    json_pull *j = &e->r->j;
    mark_value(e);
    if (json_peek(j) != JSON_OBJECT) return wrong_type(e, "", "an object");
    if (!json_object_begin(j)) return false;
    char key[32];
    while (json_next_key(j, key, sizeof key)) {
        int k = key_index(key, rules->keys);
        mark_value(e);
        if (k >= 0 && (e->seen & 1u << k)) {
            problem(e, key, "repeated key");
            k = -1;
        }
        if (k >= 0) e->seen |= 1u << k;
        if (!(k >= 0 ? rules->read(e, k, key, out) : json_skip(j))) return false;
    }
    if (json_failed(j)) return false;
    for (int k = 0; rules->keys[k]; k++)
        if ((rules->required & 1u << k) && !(e->seen & 1u << k)) {
            mark_value(e);
            problem(e, rules->keys[k], "missing key");
        }
    if (e->section == COCO_IMAGES) ((coco_image_entry *)out)->has_size = (e->seen & 12u) == 12u;
    return true;
}

static bool deliver(reader *r, entry *e, void *item) {
    const coco_visitor *v = r->v;
    bool ok = true;
    if (e->bad && !v->bad_entry) {
        *r->fatal = e->problem;
        json_fail(&r->j, e->problem.what);
        return false;
    }
    if (e->bad) ok = v->bad_entry(v->user, &e->problem);
    else if (e->section == COCO_IMAGES) ok = !v->image || v->image(v->user, e->index, item);
    else if (e->section == COCO_CATEGORIES) ok = !v->category || v->category(v->user, e->index, item);
    else ok = !v->annotation || v->annotation(v->user, e->index, item);
    if (!ok) {
        set_where(r->fatal, e->section, e->index, "");
        snprintf(r->fatal->what, sizeof r->fatal->what, "out of memory");
        json_fail(&r->j, "out of memory");
    }
    return ok;
}

static bool read_section(reader *r, coco_section s) {
    section_rules rules = rules_for(s, r->v->need);
    if (!json_array_begin(&r->j)) return fail_syntax(r, s, -1);
    for (int64_t i = 0; json_array_next(&r->j); i++) {
        if (r->droppable && i % 4096 == 0) json_drop_consumed(&r->j);
        union {
            coco_image_entry image;
            coco_category_entry category;
            coco_annotation_entry annotation;
        } item = {0};
        entry e = {.r = r, .section = s, .index = i};
        if (!read_entry(&e, &rules, &item)) return fail_syntax(r, s, i);
        if (!deliver(r, &e, &item)) return false;
    }
    return !json_failed(&r->j) || fail_syntax(r, s, -1);
}

/* The top-level object; false with r->fatal set. */
static bool parse(reader *r, int *have) {
    char key[32];
    if (r->j.start == r->j.end) json_fail(&r->j, "file is empty");
    if (!json_object_begin(&r->j)) return fail_syntax(r, COCO_TOP, -1);
    while (json_next_key(&r->j, key, sizeof key)) {
        int k = key[0] ? key_index(key, section_name) : -1;
        if (k <= 0) {
            if (!json_skip(&r->j)) return fail_syntax(r, COCO_TOP, -1);
            continue;
        }
        if (*have & 1 << (k - 1)) {
            /* No "which one wins": callers would disagree, and the first one's entries are delivered already. */
            char what[96];
            snprintf(what, sizeof what, "repeated top-level key \"%s\"; a COCO file has one", key);
            return fail_rule(r, key, what);
        }
        if (json_peek(&r->j) != JSON_ARRAY) return fail_rule(r, key, "expected an array");
        if (!read_section(r, (coco_section)k)) return false;
        *have |= 1 << (k - 1);
    }
    if (!json_failed(&r->j) && json_peek(&r->j) != JSON_NONE) json_fail(&r->j, "text after the top-level object");
    return !json_failed(&r->j) || fail_syntax(r, COCO_TOP, -1);
}

static int parse_text(const char *text, size_t n, bool droppable, const coco_visitor *v, coco_problem *fatal) {
    static const coco_visitor none = {0};
    *fatal = (coco_problem){0};
    reader r = {.droppable = droppable, .v = v ? v : &none, .fatal = fatal};
    json_init(&r.j, text, n);
    int have = 0;
    return parse(&r, &have) ? have : -1;
}

int coco_parse(const char *text, size_t n, const coco_visitor *v, coco_problem *fatal) {
    return parse_text(text, n, false, v, fatal);
}

int coco_parse_file(const char *path, const coco_visitor *v, coco_problem *fatal) {
    json_map m;
    *fatal = (coco_problem){0};
    if (!json_map_open(&m, path, fatal->what, sizeof fatal->what)) return -1;
    int have = parse_text(m.text, m.length, true, v, fatal);
    json_map_close(&m);
    return have;
}

bool coco_grow(void **items, int *cap, int n, size_t elem) {
    if (n < *cap) return true;
    if (*cap > INT_MAX / 2) return false;
    int next = *cap ? 2 * *cap : 256;
    void *p = realloc(*items, (size_t)next * elem);
    if (!p) return false;
    *items = p;
    *cap = next;
    return true;
}
