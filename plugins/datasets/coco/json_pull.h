/* A small pull parser over a JSON text in memory: the caller walks objects
 * and arrays and skips what it does not need without building a tree, so a
 * 450 MB COCO file costs its mapping plus the kept fields, not a DOM of
 * every segmentation number (cJSON needs several times the file size). */
#ifndef WB_JSON_PULL_H
#define WB_JSON_PULL_H

#include <stddef.h>
#include <stdint.h>

typedef struct json_pull {
    const char *start, *p, *end;
    const char *dropped;     /* pages before this were given back (json_drop_consumed) */
    char err[256];           /* first error, with line and column */
} json_pull;

typedef enum json_kind { JSON_NONE = 0, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_BOOL, JSON_NULL } json_kind;

void json_init(json_pull *j, const char *text, size_t n);
/* Kind of the next value (after whitespace), without consuming it. */
json_kind json_peek(json_pull *j);
/* Object iteration: json_object_begin consumes '{'; json_next_key writes the
 * next key (truncated to cap-1) and consumes ':', or returns 0 at '}'. */
int json_object_begin(json_pull *j);
int json_next_key(json_pull *j, char *key, size_t cap);
/* Array iteration: json_array_begin consumes '['; json_array_next returns 1
 * when another element follows (consuming ','), 0 at ']'. */
int json_array_begin(json_pull *j);
int json_array_next(json_pull *j);
/* Scalars; 0 (and err set) when the next value has another type. */
int json_string(json_pull *j, char *out, size_t cap);
int json_number(json_pull *j, double *out);
int json_skip(json_pull *j);
int json_failed(const json_pull *j);
/* For a text that is a file mapping: lets the kernel drop the pages already
 * parsed, so peak memory stays near the kept data instead of the file size. */
void json_drop_consumed(json_pull *j);
/* Sets the error (first wins) with the current line and column. */
void json_fail(json_pull *j, const char *what);

#endif
