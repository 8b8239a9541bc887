#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_HEADER ((uint64_t)100 << 20)

static wb_status fail(char *err, size_t n, wb_status st, const char *path, const char *what) {
    snprintf(err, n, "%s: %s", path, what);
    return st;
}

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        if (len >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)len + 1);
            if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
                free(buf);
                buf = NULL;
            }
            *size = (size_t)len;
        }
    }
    fclose(f);
    return buf;
}

static wb_status parse_tensor(const cJSON *item, const unsigned char *data, size_t data_size,
                              wb_st_tensor *t, char *why, size_t why_size) {
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs) ||
        cJSON_GetArraySize(offs) != 2) {
        snprintf(why, why_size, "tensor '%s' needs dtype, shape and data_offsets[2]", item->string);
        return WB_ERR_IO;
    }
    if (strcmp(dtype->valuestring, "F32") != 0) {
        snprintf(why, why_size, "tensor '%s' has dtype %s, only F32 is supported", item->string,
                 dtype->valuestring);
        return WB_ERR_UNSUPPORTED;
    }
    int nd = cJSON_GetArraySize(shape);
    if (nd > WB_MAX_DIMS) {
        snprintf(why, why_size, "tensor '%s' has %d dimensions (max %d)", item->string, nd, WB_MAX_DIMS);
        return WB_ERR_IO;
    }
    t->ndim = nd;
    t->numel = 1;
    for (int i = 0; i < nd; i++) {
        const cJSON *d = cJSON_GetArrayItem(shape, i);
        if (!cJSON_IsNumber(d) || d->valuedouble < 0) {
            snprintf(why, why_size, "tensor '%s' has a bad shape", item->string);
            return WB_ERR_IO;
        }
        t->shape[i] = (int64_t)d->valuedouble;
        t->numel *= t->shape[i];
    }
    double b = cJSON_GetArrayItem(offs, 0)->valuedouble, e = cJSON_GetArrayItem(offs, 1)->valuedouble;
    if (b < 0 || e < b || e > (double)data_size || (uint64_t)(e - b) != (uint64_t)t->numel * 4u ||
        ((uint64_t)b) % 4 != 0) {
        snprintf(why, why_size, "tensor '%s' has data_offsets [%.0f, %.0f] that do not fit its "
                 "shape or the file (%zu data bytes)", item->string, b, e, data_size);
        return WB_ERR_IO;
    }
    t->data = (float *)(data + (size_t)b);
    t->name = strdup(item->string);
    return t->name ? WB_OK : WB_ERR_NOMEM;
}

wb_status wb_st_read(const char *path, wb_st_file *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    size_t size = 0;
    unsigned char *img = read_all(path, &size);
    if (!img) return fail(err, err_size, WB_ERR_IO, path, strerror(errno ? errno : EIO));
    out->image = img;
    out->size = size;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0 && size >= 8; i--) hlen = (hlen << 8) | img[i];
    if (size < 8 || hlen == 0 || hlen > MAX_HEADER || 8 + hlen > size) {
        wb_st_free(out);
        return fail(err, err_size, WB_ERR_IO, path, "not a safetensors file (bad header length)");
    }
    /* Tensor data must be 4-byte aligned for float access: copy it if the
     * header length makes it misaligned. */
    unsigned char *data = img + 8 + hlen;
    size_t data_size = size - 8 - hlen;
    char save = (char)img[8 + hlen];
    img[8 + hlen] = '\0';
    cJSON *root = cJSON_ParseWithLength((const char *)img + 8, hlen);
    img[8 + hlen] = (unsigned char)save;
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        wb_st_free(out);
        return fail(err, err_size, WB_ERR_IO, path, "the JSON header does not parse");
    }
    if (((uintptr_t)data) % 4 != 0) {
        unsigned char *aligned = malloc(data_size + 8 + hlen + 4);
        if (!aligned) {
            cJSON_Delete(root);
            wb_st_free(out);
            return fail(err, err_size, WB_ERR_NOMEM, path, "out of memory");
        }
        size_t pad = (4 - ((8 + hlen) % 4)) % 4;
        memcpy(aligned + 8 + hlen + pad, data, data_size);
        data = aligned + 8 + hlen + pad;
        free(out->image);
        out->image = aligned;
    }
    int n = cJSON_GetArraySize(root);
    out->tensors = calloc((size_t)(n ? n : 1), sizeof *out->tensors);
    wb_status st = out->tensors ? WB_OK : WB_ERR_NOMEM;
    char why[512] = "out of memory";
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        if (st != WB_OK) break;
        if (strcmp(item->string, "__metadata__") == 0) {
            int nm = cJSON_GetArraySize(item);
            out->meta_keys = calloc((size_t)(nm ? nm : 1), sizeof(char *));
            out->meta_values = calloc((size_t)(nm ? nm : 1), sizeof(char *));
            if (!out->meta_keys || !out->meta_values) {
                st = WB_ERR_NOMEM;
                break;
            }
            const cJSON *kv;
            cJSON_ArrayForEach(kv, item) {
                if (!cJSON_IsString(kv)) continue;
                out->meta_keys[out->n_meta] = strdup(kv->string);
                out->meta_values[out->n_meta] = strdup(kv->valuestring);
                out->n_meta++;
            }
            continue;
        }
        st = parse_tensor(item, data, data_size, &out->tensors[out->count], why, sizeof why);
        if (st == WB_OK) out->count++;
    }
    cJSON_Delete(root);
    if (st != WB_OK) {
        wb_st_free(out);
        return fail(err, err_size, st, path, why);
    }
    return WB_OK;
}

const wb_st_tensor *wb_st_find(const wb_st_file *f, const char *name) {
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *wb_st_meta(const wb_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
    return NULL;
}

void wb_st_free(wb_st_file *f) {
    for (int i = 0; i < f->count; i++) free(f->tensors[i].name);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->tensors);
    free(f->meta_keys);
    free(f->meta_values);
    free(f->image);
    memset(f, 0, sizeof *f);
}

struct wb_st_writer {
    cJSON *header;
    cJSON *meta;
    const float **data;
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
    if (w->count == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        const float **d = realloc(w->data, (size_t)cap * sizeof *d);
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
    cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(w->offset + (size_t)n * 4)));
    cJSON_AddStringToObject(t, "dtype", "F32");
    cJSON_AddItemToObject(t, "shape", sh);
    cJSON_AddItemToObject(t, "data_offsets", offs);
    cJSON_AddItemToObject(w->header, name, t);
    w->data[w->count] = data;
    w->bytes[w->count] = (size_t)n * 4;
    w->count++;
    w->offset += (size_t)n * 4;
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
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(json);
        return fail(err, err_size, WB_ERR_IO, tmp, strerror(errno));
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
