/* A small pull parser over a JSON text in memory: the caller walks objects
 * and arrays and skips what it does not need without building a tree, so a
 * 450 MB COCO file costs its mapping plus the kept fields, not a DOM of
 * every segmentation number (cJSON needs several times the file size).
 * libc only: compiled into the core and into the coco dataset plugin.
 *
 * Hostile input: nesting deeper than JSON_MAX_DEPTH is an error (json_skip
 * recurses once per level), numbers of any length are read, and a number's
 * value is only computed on request (json_token_double, json_token_id). */
#ifndef WB_JSON_PULL_H
#define WB_JSON_PULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* COCO nests four levels (segmentation polygons); 64 leaves room for any
 * metadata a tool adds and bounds the recursion of json_skip. */
#define JSON_MAX_DEPTH 64

typedef struct json_pull {
    const char *start, *p, *end;
    const char *dropped;     /* pages before this were given back (json_drop_consumed) */
    int depth;               /* open objects and arrays */
    int line;                /* of p; newlines occur only between tokens */
    const char *line_start;
    int err_line, err_column;
    bool err_limit;          /* the error is the depth limit, not bad JSON */
    char err_what[160];      /* first error, without its position */
    char err[256];           /* first error, "what at line L, column C" */
} json_pull;

typedef enum json_kind { JSON_NONE = 0, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_BOOL, JSON_NULL } json_kind;

void json_init(json_pull *j, const char *text, size_t n);
/* Kind of the next value (after whitespace), without consuming it. */
json_kind json_peek(json_pull *j);
/* Object iteration: json_object_begin consumes '{'; json_next_key writes the
 * next key and consumes ':', or returns 0 at '}'. A key that does not fit in
 * cap - 1 bytes or holds a NUL comes back as "" (it matches no known key). */
int json_object_begin(json_pull *j);
int json_next_key(json_pull *j, char *key, size_t cap);
/* Array iteration: json_array_begin consumes '['; json_array_next returns 1
 * when another element follows (consuming ','), 0 at ']'. */
int json_array_begin(json_pull *j);
int json_array_next(json_pull *j);
/* A string decoded into out (truncated to cap - 1 bytes); returns its full
 * decoded length, or -1 (and err set) when the next value is not a string. */
long json_string(json_pull *j, char *out, size_t cap);
/* The next number's text, checked against the JSON grammar (any length);
 * 0 (and err set) when the next value is not a number. */
int json_number_token(json_pull *j, const char **tok, size_t *len);
/* The token's value; false when it is beyond the range of a double
 * (1e400). Underflow (1e-400) reads as 0, as in cJSON and Python. */
bool json_token_double(const char *tok, size_t len, double *out);
/* The token as an exact integer id: a whole number (1, 1.0, 1e3) of at
 * most 2^53 in magnitude, decided on the digits, not on a rounded double. */
bool json_token_id(const char *tok, size_t len, int64_t *out);
/* json_number_token then json_token_double; overflow is an error. */
int json_number(json_pull *j, double *out);
int json_bool(json_pull *j, bool *out);
int json_skip(json_pull *j);
int json_failed(const json_pull *j);
/* For a text that is a file mapping: lets the kernel drop the pages already
 * parsed, so peak memory stays near the kept data instead of the file size. */
void json_drop_consumed(json_pull *j);
/* Sets the error (first wins) with the current line and column. */
void json_fail(json_pull *j, const char *what);

#endif
