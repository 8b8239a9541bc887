/* A scan of config text in libconfig's lexical terms (strings, comments,
 * names, numbers) that finds what libconfig 1.5 would misread silently. */
#include "config_text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct offsets {
    size_t *at;
    size_t n, cap;
} offsets;

typedef struct scan {
    const char *text;
    size_t len, i;
    unsigned line;
    wb_text_error_fn report;
    void *user;
    int failed, oom;
    offsets widen;      /* where an `L` goes */
    offsets array_ints; /* ints of the [array] being read, for when one of them is 64-bit */
    int in_array, array_wide;
    size_t *settings_left; /* NULL: no limit */
    size_t budget;         /* *settings_left at the start, for the message */
} scan;

static void problem(scan *s, unsigned line, const char *msg) {
    s->report(s->user, line, msg);
    s->failed = 1;
}

static void push(scan *s, offsets *o, size_t at) {
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 16;
        size_t *p = realloc(o->at, cap * sizeof *p);
        if (!p) {
            s->oom = 1;
            return;
        }
        o->at = p;
        o->cap = cap;
    }
    o->at[o->n++] = at;
}

static int at_end(const scan *s) { return s->i >= s->len; }
static char peek(const scan *s, size_t ahead) { return s->i + ahead < s->len ? s->text[s->i + ahead] : '\0'; }

static void skip_to_line_end(scan *s) {
    while (!at_end(s) && s->text[s->i] != '\n') s->i++;
}

static void skip_block_comment(scan *s) {
    unsigned start = s->line;
    for (s->i += 2; !at_end(s); s->i++) {
        if (s->text[s->i] == '\n') s->line++;
        if (s->text[s->i] == '*' && peek(s, 1) == '/') {
            s->i += 2;
            return;
        }
    }
    problem(s, start, "unterminated /* comment: everything after it would be ignored; close it with */");
}

static void skip_string(scan *s) {
    for (s->i++; !at_end(s) && s->text[s->i] != '"'; s->i++) {
        if (s->text[s->i] == '\\') s->i++;
        if (!at_end(s) && s->text[s->i] == '\n') s->line++;
    }
    s->i++; /* an unterminated string is libconfig's own syntax error */
}

static int is_name_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '*'; }

static int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* An integer (or float, skipped) starting at s->i. */
static void number(scan *s) {
    size_t start = s->i;
    int negative = peek(s, 0) == '-';
    if (peek(s, 0) == '-' || peek(s, 0) == '+') s->i++;
    unsigned base = peek(s, 0) == '0' && (peek(s, 1) == 'x' || peek(s, 1) == 'X') ? 16 : 10;
    if (base == 16) s->i += 2;
    uint64_t mag = 0;
    int overflow = 0, d;
    for (; !at_end(s) && (d = digit_value(s->text[s->i])) >= 0 && (unsigned)d < base; s->i++) {
        overflow |= mag > (UINT64_MAX - (unsigned)d) / base;
        mag = mag * base + (unsigned)d;
    }
    if (base == 10 && (peek(s, 0) == '.' || peek(s, 0) == 'e' || peek(s, 0) == 'E')) {
        while (!at_end(s) && (isdigit((unsigned char)peek(s, 0)) || strchr(".eE", peek(s, 0)) ||
                              ((peek(s, 0) == '+' || peek(s, 0) == '-') && strchr("eE", s->text[s->i - 1]))))
            s->i++;
        return;
    }
    size_t end = s->i;
    int suffixed = peek(s, 0) == 'L';
    while (peek(s, 0) == 'L') s->i++;
    uint64_t limit64 = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t limit32 = negative ? (uint64_t)INT32_MAX + 1 : (uint64_t)INT32_MAX;
    if (overflow || mag > limit64) {
        char msg[160];
        snprintf(msg, sizeof msg, "the integer %.*s%s does not fit in 64 bits (-9223372036854775808 to "
                 "9223372036854775807)", (int)(end - start > 40 ? 40 : end - start), s->text + start,
                 end - start > 40 ? "..." : "");
        problem(s, s->line, msg);
        return;
    }
    int wide = suffixed || mag > limit32;
    if (s->in_array) {
        s->array_wide |= wide;
        if (!suffixed) push(s, &s->array_ints, end);
    } else if (wide && !suffixed) {
        push(s, &s->widen, end);
    }
}

static void close_array(scan *s) {
    for (size_t k = 0; s->array_wide && k < s->array_ints.n; k++) push(s, &s->widen, s->array_ints.at[k]);
    s->array_ints.n = 0;
    s->in_array = s->array_wide = 0;
}

static void count_setting(scan *s) {
    if (!s->settings_left) return;
    if (*s->settings_left == 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "more than %zu settings in the experiment with its bases; is this a config file?",
                 s->budget);
        problem(s, s->line, msg);
        s->settings_left = NULL; /* once */
        return;
    }
    (*s->settings_left)--;
}

static int starts_number(const scan *s) {
    char c = peek(s, 0), next = peek(s, 1);
    if (isdigit((unsigned char)c)) return 1;
    if (c == '.') return isdigit((unsigned char)next);
    return (c == '-' || c == '+') && (isdigit((unsigned char)next) || (next == '.' && isdigit((unsigned char)peek(s, 2))));
}

static void scan_text(scan *s) {
    int nul_seen = 0;
    for (size_t k = 0; k < s->len && !nul_seen; k++) {
        if (s->text[k] != '\0') continue;
        unsigned line = 1;
        for (size_t j = 0; j < k; j++) line += s->text[j] == '\n';
        problem(s, line, "a NUL byte: a config is text (is this a binary file?); nothing after it would be read");
        nul_seen = 1;
    }
    while (!at_end(s)) {
        char c = s->text[s->i];
        if (c == '\n') {
            s->line++;
            s->i++;
        } else if (c == '"') {
            skip_string(s);
        } else if (c == '#' || (c == '/' && peek(s, 1) == '/')) {
            skip_to_line_end(s);
        } else if (c == '/' && peek(s, 1) == '*') {
            skip_block_comment(s);
        } else if (isalpha((unsigned char)c) || c == '*') {
            while (!at_end(s) && is_name_char(s->text[s->i])) s->i++;
        } else if (starts_number(s)) {
            number(s);
        } else {
            if (c == '[') s->in_array = 1;
            if (c == ']') close_array(s);
            if (c == '=' || c == ':') count_setting(s);
            s->i++;
        }
    }
}

static int by_offset(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* The text with an `L` at every widened offset. */
static char *widened(const scan *s) {
    char *out = malloc(s->len + s->widen.n + 1);
    if (!out) return NULL;
    if (s->widen.n) qsort(s->widen.at, s->widen.n, sizeof *s->widen.at, by_offset);
    size_t from = 0, o = 0;
    for (size_t k = 0; k < s->widen.n; k++) {
        memcpy(out + o, s->text + from, s->widen.at[k] - from);
        o += s->widen.at[k] - from;
        out[o++] = 'L';
        from = s->widen.at[k];
    }
    memcpy(out + o, s->text + from, s->len - from);
    out[o + s->len - from] = '\0';
    return out;
}

char *wb_config_text_prepare(const char *text, size_t len, size_t *settings_left, wb_text_error_fn report,
                             void *user) {
    scan s = { .text = text, .len = len, .line = 1, .report = report, .user = user,
               .settings_left = settings_left, .budget = settings_left ? *settings_left : 0 };
    scan_text(&s);
    char *out = NULL;
    if (!s.failed && !s.oom) out = widened(&s);
    if (!out && !s.failed) report(user, 0, "out of memory reading the config");
    free(s.widen.at);
    free(s.array_ints.at);
    return out;
}
