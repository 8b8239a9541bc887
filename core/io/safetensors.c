/* The safetensors writer (the reader is safetensors_read.c). */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static wb_status fail(char *err, size_t n, wb_status st, const char *path, const char *what) {
    snprintf(err, n, "%s: %s", path, what);
    return st;
}

struct wb_st_writer {
    cJSON *header;
    cJSON *meta;
    const void **data;
    size_t *bytes;
    int count, cap;
    size_t offset;
    int oom;
};

wb_st_writer *wb_st_writer_new(void) {
    wb_st_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->header = cJSON_CreateObject();
    if (!w->header) {
        free(w);
        return NULL;
    }
    return w;
}

void wb_st_writer_add(wb_st_writer *w, const char *name, int ndim, const int64_t *shape,
                      const float *data) {
    wb_st_writer_add_raw(w, name, "F32", sizeof *data, ndim, shape, data);
}

void wb_st_writer_add_raw(wb_st_writer *w, const char *name, const char *dtype, size_t elem_size, int ndim,
                          const int64_t *shape, const void *data) {
    if (w->count == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        const void **d = realloc(w->data, (size_t)cap * sizeof *d);
        if (d) w->data = d;
        size_t *b = realloc(w->bytes, (size_t)cap * sizeof *b);
        if (b) w->bytes = b;
        if (!d || !b) {
            w->oom = 1;
            return;
        }
        w->cap = cap;
    }
    int64_t n = 1;
    cJSON *t = cJSON_CreateObject();
    cJSON *sh = cJSON_CreateArray();
    for (int i = 0; i < ndim; i++) {
        n *= shape[i];
        cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)shape[i]));
    }
    cJSON *offs = cJSON_CreateArray();
    cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)w->offset));
    cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(w->offset + (size_t)n * elem_size)));
    cJSON_AddStringToObject(t, "dtype", dtype);
    cJSON_AddItemToObject(t, "shape", sh);
    cJSON_AddItemToObject(t, "data_offsets", offs);
    cJSON_AddItemToObject(w->header, name, t);
    w->data[w->count] = data;
    w->bytes[w->count] = (size_t)n * elem_size;
    w->count++;
    w->offset += (size_t)n * elem_size;
}

void wb_st_writer_meta(wb_st_writer *w, const char *key, const char *value) {
    if (!w->meta) {
        w->meta = cJSON_CreateObject();
        cJSON_AddItemToObject(w->header, "__metadata__", w->meta);
    }
    cJSON_AddStringToObject(w->meta, key, value);
}

wb_status wb_st_writer_save(wb_st_writer *w, const char *path, char *err, size_t err_size) {
    if (w->oom) return fail(err, err_size, WB_ERR_NOMEM, path, "out of memory building the file");
    char *json = cJSON_PrintUnformatted(w->header);
    if (!json) return fail(err, err_size, WB_ERR_NOMEM, path, "out of memory building the header");
    /* Pad the header with spaces so tensor data starts 8-byte aligned. */
    size_t hlen = strlen(json);
    size_t padded = (hlen + 7) & ~(size_t)7;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    /* A fresh file: a symlink planted at the temporary name must not lead the write elsewhere. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0) close(fd);
        free(json);
        return fail(err, err_size, WB_ERR_IO, tmp, strerror(e));
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(json, 1, hlen, f) == hlen;
    for (size_t i = hlen; ok && i < padded; i++) ok = fputc(' ', f) != EOF;
    for (int i = 0; ok && i < w->count; i++)
        ok = w->bytes[i] == 0 || fwrite(w->data[i], 1, w->bytes[i], f) == w->bytes[i];
    free(json);
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return fail(err, err_size, WB_ERR_IO, path, strerror(e ? e : EIO));
    }
    return WB_OK;
}

void wb_st_writer_free(wb_st_writer *w) {
    if (!w) return;
    cJSON_Delete(w->header);
    free(w->data);
    free(w->bytes);
    free(w);
}
