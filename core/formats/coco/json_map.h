/* Maps an annotation file read-only for the pull parser. Only a regular,
 * non-empty file is mapped: a FIFO would block the open forever and a
 * directory or device has no size to map. libc only (core and plugin). */
#ifndef WB_JSON_MAP_H
#define WB_JSON_MAP_H

#include <stddef.h>

typedef struct json_map {
    void *base;
    size_t size;
    const char *text;  /* base without a UTF-8 byte order mark */
    size_t length;
} json_map;

/* 0 with "PATH: why; what to do" in err on failure. */
int json_map_open(json_map *m, const char *path, char *err, size_t err_size);
void json_map_close(json_map *m);

#endif
