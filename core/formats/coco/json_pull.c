#include "json_pull.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void json_init(json_pull *j, const char *text, size_t n) {
    *j = (json_pull){.start = text, .p = text, .end = text + n, .dropped = text, .line = 1, .line_start = text};
}

void json_drop_consumed(json_pull *j) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = ((uintptr_t)j->dropped + page - 1) & ~(page - 1);
    uintptr_t to = (uintptr_t)j->p & ~(page - 1);
    if (to < from + ((uintptr_t)16 << 20)) return; /* in 16 MiB steps */
    /* A read-only private mapping: dropped pages would be re-read from the
     * file if touched again, which the parser never does. */
    madvise((void *)from, to - from, MADV_DONTNEED);
    j->dropped = (const char *)to;
}

int json_failed(const json_pull *j) { return j->err[0] != '\0'; }

void json_fail(json_pull *j, const char *what) {
    if (j->err[0]) return;
    j->err_line = j->line;
    j->err_column = (int)(j->p - j->line_start) + 1;
    snprintf(j->err_what, sizeof j->err_what, "%s", what);
    snprintf(j->err, sizeof j->err, "%s at line %d, column %d", what, j->err_line, j->err_column);
    j->p = j->end; /* every later call sees the end and fails fast */
}

/* Newlines only occur here (a string may not hold a raw control character),
 * so this is where lines are counted. */
static void skip_ws(json_pull *j) {
    for (; j->p < j->end; j->p++) {
        char c = *j->p;
        if (c == '\n') j->line++, j->line_start = j->p + 1;
        else if (c != ' ' && c != '\r' && c != '\t') break;
    }
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

static int open_container(json_pull *j, char c, const char *what) {
    if (!expect(j, c, what)) return 0;
    if (++j->depth > JSON_MAX_DEPTH) {
        j->p--;
        json_fail(j, "nesting deeper than 64 levels (not a COCO file?)");
        j->err_limit = true;
        return 0;
    }
    return 1;
}

int json_object_begin(json_pull *j) { return open_container(j, '{', "expected an object"); }
int json_array_begin(json_pull *j) { return open_container(j, '[', "expected an array"); }

/* After '{' or '[': 1 if an element follows; consumes ',' between elements. */
static int next_member(json_pull *j, char close, int first) {
    skip_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return 0;
    }
    if (!first && !expect(j, ',', close == '}' ? "expected ',' or '}'" : "expected ',' or ']'")) return 0;
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
    if (!next_member(j, '}', at_first(j))) return 0;
    long len = json_string(j, key, cap);
    if (len < 0) return 0;
    if ((size_t)len >= cap || strlen(key) != (size_t)len) key[0] = '\0';
    return expect(j, ':', "expected ':' after a key");
}

int json_array_next(json_pull *j) { return next_member(j, ']', at_first(j)); }

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

/* One escape after '\\' into buf; its length, 0 on error (err set). */
static size_t read_escape(json_pull *j, char buf[4]) {
    char e = *j->p++;
    unsigned cp;
    switch (e) {
    case 'n': buf[0] = '\n'; return 1;
    case 't': buf[0] = '\t'; return 1;
    case 'r': buf[0] = '\r'; return 1;
    case 'b': buf[0] = '\b'; return 1;
    case 'f': buf[0] = '\f'; return 1;
    case '"': case '\\': case '/': buf[0] = e; return 1;
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
        return put_utf8(buf, cp);
    default:
        j->p--;
        json_fail(j, "bad escape in a string");
        return 0;
    }
}

long json_string(json_pull *j, char *out, size_t cap) {
    if (json_peek(j) != JSON_STRING) {
        json_fail(j, "expected a string");
        return -1;
    }
    j->p++;
    size_t n = 0;
    while (j->p < j->end && *j->p != '"') {
        char buf[4];
        size_t len = 1;
        buf[0] = *j->p;
        if ((unsigned char)buf[0] < 0x20) {
            json_fail(j, "control character inside a string");
            return -1;
        }
        j->p++;
        if (buf[0] == '\\') {
            if (j->p >= j->end) break;
            if (!(len = read_escape(j, buf))) return -1;
        }
        for (size_t k = 0; k < len; k++, n++)
            if (out && n + 1 < cap) out[n] = buf[k];
    }
    if (j->p >= j->end) {
        json_fail(j, "unterminated string");
        return -1;
    }
    j->p++;
    if (out && cap) out[n < cap ? n : cap - 1] = '\0';
    return (long)n;
}

static const char *digits(const char *p, const char *end) {
    while (p < end && *p >= '0' && *p <= '9') p++;
    return p;
}

int json_number_token(json_pull *j, const char **tok, size_t *len) {
    if (json_peek(j) != JSON_NUMBER) {
        json_fail(j, "expected a number");
        return 0;
    }
    /* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *p = j->p, *end = j->end, *d;
    if (*p == '-') p++;
    d = digits(p, end);
    int ok = d > p && !(*p == '0' && d > p + 1);
    p = d;
    if (ok && p < end && *p == '.') {
        d = digits(p + 1, end);
        ok = d > p + 1;
        p = d;
    }
    if (ok && p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        d = digits(p, end);
        ok = d > p;
        p = d;
    }
    if (!ok) {
        json_fail(j, "malformed number");
        return 0;
    }
    *tok = j->p;
    *len = (size_t)(p - j->p);
    j->p = p;
    return 1;
}

bool json_token_double(const char *tok, size_t len, double *out) {
    /* strtod needs a terminated string and the text is not. */
    char small[64], *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf) return false;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    errno = 0;
    *out = strtod(buf, NULL);
    bool overflow = errno == ERANGE && (*out > 1.0 || *out < -1.0);
    if (buf != small) free(buf);
    return !overflow;
}

bool json_token_id(const char *tok, size_t len, int64_t *out) {
    const char *p = tok, *end = tok + len;
    bool neg = p < end && *p == '-';
    if (neg) p++;
    /* Digits of the mantissa (the '.' skipped) and the decimal power of the
     * first and last non-zero one: a whole number when the last one's power
     * is >= 0, at most 2^53 (16 digits) when the first one's is <= 15. */
    int64_t n_int = 0, index = 0, first = -1, last = -1;
    for (const char *q = p; q < end && *q != 'e' && *q != 'E'; q++) {
        if (*q == '.') continue;
        if (*q != '0') {
            if (first < 0) first = index;
            last = index;
        }
        index++;
    }
    for (const char *q = p; q < end && *q >= '0' && *q <= '9'; q++) n_int++;
    int64_t exp = 0;
    const char *e = p;
    while (e < end && *e != 'e' && *e != 'E') e++;
    if (e < end) {
        bool eneg = e + 1 < end && e[1] == '-';
        for (const char *q = e + 1; q < end; q++)
            if (*q >= '0' && *q <= '9' && exp < 1000000000) exp = exp * 10 + (*q - '0');
        if (eneg) exp = -exp;
    }
    if (first < 0) {
        *out = 0;
        return true;
    }
    int64_t p_first = n_int - 1 - first + exp, p_last = n_int - 1 - last + exp;
    if (p_last < 0 || p_first > 15) return false;
    int64_t v = 0;
    index = 0;
    for (const char *q = p; q < e; q++) {
        if (*q == '.') continue;
        if (index >= first && index <= last) v = v * 10 + (*q - '0');
        index++;
    }
    for (int64_t k = 0; k < p_last; k++) v *= 10;
    if (v > ((int64_t)1 << 53)) return false;
    *out = neg ? -v : v;
    return true;
}

int json_number(json_pull *j, double *out) {
    const char *tok;
    size_t len;
    if (!json_number_token(j, &tok, &len)) return 0;
    if (!json_token_double(tok, len, out)) {
        j->p = tok;
        json_fail(j, "number out of range");
        return 0;
    }
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

int json_bool(json_pull *j, bool *out) {
    if (json_peek(j) != JSON_BOOL) {
        json_fail(j, "expected true or false");
        return 0;
    }
    *out = *j->p == 't';
    return literal(j, *out ? "true" : "false");
}

/* Recursion is bounded: json_object_begin / json_array_begin refuse to go
 * deeper than JSON_MAX_DEPTH. */
int json_skip(json_pull *j) {
    const char *tok;
    size_t len;
    bool b;
    switch (json_peek(j)) {
    case JSON_OBJECT: {
        if (!json_object_begin(j)) return 0;
        char key[8];
        while (json_next_key(j, key, sizeof key))
            if (!json_skip(j)) return 0;
        return !json_failed(j);
    }
    case JSON_ARRAY:
        if (!json_array_begin(j)) return 0;
        while (json_array_next(j))
            if (!json_skip(j)) return 0;
        return !json_failed(j);
    case JSON_STRING: return json_string(j, NULL, 0) >= 0;
    case JSON_NUMBER: return json_number_token(j, &tok, &len);
    case JSON_BOOL: return json_bool(j, &b);
    case JSON_NULL: return literal(j, "null");
    default: json_fail(j, j->p >= j->end ? "unexpected end of file" : "expected a value"); return 0;
    }
}
