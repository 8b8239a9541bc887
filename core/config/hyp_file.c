#include "hyp_file.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "../io/file_read.h"

/* Hyp files are a few hundred bytes; this bounds a mistaken path's reading. */
#define HYP_MAX_BYTES (1u << 20)

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t n, size_t line, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, n, "line %zu: %s", line + 1, msg);
    return -1;
}

static bool parse_number(const char *s, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && !*end && !errno && isfinite(*v);
}

/* The next event; false on libyaml's own error (the parser holds it). */
static bool next(yaml_parser_t *p, yaml_event_t *e) { return yaml_parser_parse(p, e) != 0; }

/* Reads `name: number` pairs of the top-level mapping. */
static int read_pairs(yaml_parser_t *p, wb_hyp_file *out, char *err, size_t n) {
    yaml_event_t e;
    bool in_map = false;
    for (;;) {
        if (!next(p, &e)) return 1;
        size_t line = e.start_mark.line;
        yaml_event_type_t kind = e.type;
        if (kind == YAML_STREAM_END_EVENT || (in_map && kind == YAML_MAPPING_END_EVENT)) {
            yaml_event_delete(&e);
            return in_map ? 0 : fail(err, n, line, "the file is empty; a hyp file is a mapping `name: value`");
        }
        if (!in_map) {
            in_map = kind == YAML_MAPPING_START_EVENT;
            bool ok = in_map || kind == YAML_STREAM_START_EVENT || kind == YAML_DOCUMENT_START_EVENT;
            yaml_event_delete(&e);
            if (!ok) return fail(err, n, line, "a hyp file is a mapping of names to numbers (`lr0: 0.01`)");
            continue;
        }
        if (kind != YAML_SCALAR_EVENT) {
            yaml_event_delete(&e);
            return fail(err, n, line, "a hyperparameter name must be plain text");
        }
        wb_hyp_entry ent = {.line = (unsigned)line + 1};
        bool fits = e.data.scalar.length < sizeof ent.name;
        snprintf(ent.name, sizeof ent.name, "%s", (const char *)e.data.scalar.value);
        bool whole = fits && strlen(ent.name) == e.data.scalar.length; /* no NUL inside */
        yaml_event_delete(&e);
        if (!fits) return fail(err, n, line, "the name '%.40s...' is too long for a hyperparameter", ent.name);
        if (!ent.name[0] || !whole) /* `: 0`, `&a : 0`, or a NUL inside */
            return fail(err, n, line, "a hyperparameter needs a name (`lr0: 0.01`)");
        for (int i = 0; i < out->n; i++)
            if (strcmp(out->entries[i].name, ent.name) == 0)
                return fail(err, n, line, "'%s' appears twice (first on line %u)", ent.name, out->entries[i].line);
        if (out->n == WB_HYP_MAX_ENTRIES)
            return fail(err, n, line, "more than %d hyperparameters", WB_HYP_MAX_ENTRIES);
        if (!next(p, &e)) return 1;
        bool scalar = e.type == YAML_SCALAR_EVENT;
        char text[64] = "";
        if (scalar) snprintf(text, sizeof text, "%s", (const char *)e.data.scalar.value);
        yaml_event_delete(&e);
        if (!scalar || !parse_number(text, &ent.value))
            return fail(err, n, line, "'%s' must be a number (got %s)", ent.name, scalar ? text : "a list or mapping");
        out->entries[out->n++] = ent;
    }
}

int wb_hyp_parse(const char *text, size_t len, wb_hyp_file *out, char *err, size_t err_size) {
    out->n = 0;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return fail(err, err_size, 0, "out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int rc = read_pairs(&p, out, err, err_size);
    if (rc > 0) /* libyaml's own error */
        rc = fail(err, err_size, p.problem_mark.line, "not valid YAML: %s", p.problem ? p.problem : "parse error");
    yaml_parser_delete(&p);
    return rc;
}

int wb_hyp_read(const char *path, wb_hyp_file *out, char *err, size_t err_size) {
    size_t size = 0;
    char *text = wb_read_file(path, HYP_MAX_BYTES, "hyp file", &size, err, err_size);
    if (!text) return -1;
    char why[512];
    int rc = wb_hyp_parse(text, size, out, why, sizeof why);
    if (rc != 0) snprintf(err, err_size, "%s: %s", path, why);
    free(text);
    return rc;
}
