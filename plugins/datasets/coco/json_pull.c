#include "json_pull.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void json_init(json_pull *j, const char *text, size_t n) {
    j->start = j->p = text;
    j->end = text + n;
    j->err[0] = '\0';
    j->dropped = text;
}

void json_drop_consumed(json_pull *j) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = ((uintptr_t)j->dropped + page - 1) & ~(page - 1);
    uintptr_t to = (uintptr_t)j->p & ~(page - 1);
    if (to < from + ((uintptr_t)16 << 20)) return; /* in 16 MiB steps */
    /* A read-only private mapping: dropped pages would be re-read from the
     * file if touched again (only json_fail's line count goes back). */
    madvise((void *)from, to - from, MADV_DONTNEED);
    j->dropped = (const char *)to;
}

int json_failed(const json_pull *j) { return j->err[0] != '\0'; }

void json_fail(json_pull *j, const char *what) {
    if (j->err[0]) return;
    int line = 1;
    const char *bol = j->start;
    for (const char *q = j->start; q < j->p && q < j->end; q++)
        if (*q == '\n') line++, bol = q + 1;
    snprintf(j->err, sizeof j->err, "%s at line %d, column %d", what, line, (int)(j->p - bol) + 1);
    j->p = j->end; /* every later call sees the end and fails fast */
}

static void skip_ws(json_pull *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++;
}

json_kind json_peek(json_pull *j) {
    skip_ws(j);
    if (j->p >= j->end) return JSON_NONE;
    switch (*j->p) {
    case '{': return JSON_OBJECT;
    case '[': return JSON_ARRAY;
    case '"': return JSON_STRING;
    case 't': case 'f': return JSON_BOOL;
    case 'n': return JSON_NULL;
    default: return (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) ? JSON_NUMBER : JSON_NONE;
    }
}

static int expect(json_pull *j, char c, const char *what) {
    skip_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    json_fail(j, what);
    return 0;
}

int json_object_begin(json_pull *j) { return expect(j, '{', "expected an object"); }
int json_array_begin(json_pull *j) { return expect(j, '[', "expected an array"); }

/* After '{' or '[': 1 if an element follows; consumes ',' between elements. */
static int next_member(json_pull *j, char close, int *first) {
    skip_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return 0;
    }
    if (!*first && !expect(j, ',', close == '}' ? "expected ',' or '}'" : "expected ',' or ']'")) return 0;
    *first = 0;
    skip_ws(j);
    if (j->p >= j->end) {
        json_fail(j, "unexpected end of file");
        return 0;
    }
    return 1;
}

/* The iteration state (first element or not) is recovered from the text:
 * the previous non-space character is '{' / '[' for the first element. */
static int at_first(const json_pull *j) {
    const char *q = j->p;
    while (q > j->start && (q[-1] == ' ' || q[-1] == '\n' || q[-1] == '\r' || q[-1] == '\t')) q--;
    return q > j->start && (q[-1] == '{' || q[-1] == '[');
}

int json_next_key(json_pull *j, char *key, size_t cap) {
    int first = at_first(j);
    if (!next_member(j, '}', &first)) return 0;
    if (!json_string(j, key, cap)) return 0;
    return expect(j, ':', "expected ':' after a key");
}

int json_array_next(json_pull *j) {
    int first = at_first(j);
    return next_member(j, ']', &first);
}

static int hex4(const char *s, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        *v = *v << 4 | (unsigned)d;
    }
    return 1;
}

static size_t put_utf8(char *out, unsigned cp) {
    if (cp < 0x80) return out[0] = (char)cp, 1;
    if (cp < 0x800) return out[0] = (char)(0xC0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3F)), 2;
    if (cp < 0x10000)
        return out[0] = (char)(0xE0 | cp >> 12), out[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
               out[2] = (char)(0x80 | (cp & 0x3F)), 3;
    out[0] = (char)(0xF0 | cp >> 18), out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes a string into out (when non-NULL), truncating to cap - 1. */
static int read_string(json_pull *j, char *out, size_t cap) {
    if (!expect(j, '"', "expected a string")) return 0;
    size_t n = 0;
    while (j->p < j->end && *j->p != '"') {
        char buf[4];
        size_t len = 1;
        buf[0] = *j->p++;
        if ((unsigned char)buf[0] < 0x20) {
            j->p--;
            json_fail(j, "control character inside a string");
            return 0;
        }
        if (buf[0] == '\\') {
            if (j->p >= j->end) break;
            char e = *j->p++;
            unsigned cp;
            switch (e) {
            case 'n': buf[0] = '\n'; break;
            case 't': buf[0] = '\t'; break;
            case 'r': buf[0] = '\r'; break;
            case 'b': buf[0] = '\b'; break;
            case 'f': buf[0] = '\f'; break;
            case '"': case '\\': case '/': buf[0] = e; break;
            case 'u':
                if (j->end - j->p < 4 || !hex4(j->p, &cp)) {
                    json_fail(j, "bad \\u escape");
                    return 0;
                }
                j->p += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
                    unsigned lo;
                    if (hex4(j->p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        j->p += 6;
                    }
                }
                len = put_utf8(buf, cp);
                break;
            default:
                j->p--;
                json_fail(j, "bad escape in a string");
                return 0;
            }
        }
        for (size_t k = 0; out && k < len && n + 1 < cap; k++) out[n++] = buf[k];
    }
    if (j->p >= j->end) {
        json_fail(j, "unterminated string");
        return 0;
    }
    j->p++;
    if (out && cap) out[n] = '\0';
    return 1;
}

int json_string(json_pull *j, char *out, size_t cap) {
    if (json_peek(j) != JSON_STRING) {
        json_fail(j, "expected a string");
        return 0;
    }
    return read_string(j, out, cap);
}

int json_number(json_pull *j, double *out) {
    if (json_peek(j) != JSON_NUMBER) {
        json_fail(j, "expected a number");
        return 0;
    }
    /* strtod needs a terminated string and the text is not: copy the
     * number's characters (JSON numbers use only these) first. */
    char buf[64];
    size_t n = 0;
    while (j->p + n < j->end && n + 1 < sizeof buf && j->p[n] && strchr("0123456789+-.eE", j->p[n])) {
        buf[n] = j->p[n];
        n++;
    }
    buf[n] = '\0';
    char *stop;
    errno = 0;
    *out = strtod(buf, &stop);
    if (stop != buf + n || errno == ERANGE) {
        json_fail(j, "malformed number");
        return 0;
    }
    j->p += n;
    return 1;
}

static int literal(json_pull *j, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) >= n && memcmp(j->p, word, n) == 0) {
        j->p += n;
        return 1;
    }
    json_fail(j, "unknown literal");
    return 0;
}

int json_skip(json_pull *j) {
    switch (json_peek(j)) {
    case JSON_OBJECT: {
        json_object_begin(j);
        char key[8];
        while (json_next_key(j, key, sizeof key))
            if (!json_skip(j)) return 0;
        return !json_failed(j);
    }
    case JSON_ARRAY:
        json_array_begin(j);
        while (json_array_next(j))
            if (!json_skip(j)) return 0;
        return !json_failed(j);
    case JSON_STRING: return read_string(j, NULL, 0);
    case JSON_NUMBER: {
        double v;
        return json_number(j, &v);
    }
    case JSON_BOOL: return literal(j, *j->p == 't' ? "true" : "false");
    case JSON_NULL: return literal(j, "null");
    default: json_fail(j, j->p >= j->end ? "unexpected end of file" : "expected a value"); return 0;
    }
}
