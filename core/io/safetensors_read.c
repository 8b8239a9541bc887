/* The safetensors reader: validates the whole header against the data
 * buffer's size before a byte of tensor data is read or trusted. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "file_read.h"
#include "safetensors.h"

/* The format allows 100 MB of JSON header; a detector's is well under 1 MB,
 * and the parsed tree costs about 12 times the text. */
#define MAX_HEADER (16u << 20)
#define MAX_EXACT 9007199254740992.0     /* 2^53: larger JSON numbers are no exact integers */
#define DAMAGED "; the file is damaged or is not a safetensors file"

/* Where the header says one tensor's bytes are; sorted to check the tiling. */
typedef struct span {
    int64_t begin, end;
    int index;
} span;

typedef struct parser {
    wb_st_file *out;
    span *spans;
    char why[512];
} parser;

static wb_status refuse(parser *p, wb_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why, sizeof p->why, fmt, ap);
    va_end(ap);
    return st;
}

/* A JSON number that is a non-negative integer a double holds exactly. */
static bool exact_count(const cJSON *v, int64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0.0 && d <= MAX_EXACT) || d != (double)(int64_t)d) return false;
    *out = (int64_t)d;
    return true;
}

static bool known_dtype(const char *s) {
    static const char *const dtypes[] = {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
                                         "I32", "U32", "F32", "F64", "I64", "U64", NULL};
    for (int i = 0; dtypes[i]; i++)
        if (strcmp(s, dtypes[i]) == 0) return true;
    return false;
}

/* The entry's three fields, each exactly once and nothing else. */
static wb_status entry_fields(parser *p, const cJSON *item, const cJSON *field[3]) {
    static const char *const names[3] = {"dtype", "shape", "data_offsets"};
    if (!cJSON_IsObject(item))
        return refuse(p, WB_ERR_IO, "tensor '%s' is not an object {dtype, shape, data_offsets}" DAMAGED, item->string);
    const cJSON *c;
    cJSON_ArrayForEach(c, item) {
        int k = 0;
        while (k < 3 && strcmp(c->string, names[k]) != 0) k++;
        if (k == 3) return refuse(p, WB_ERR_IO, "tensor '%s' has an unknown field '%s'" DAMAGED, item->string, c->string);
        if (field[k]) return refuse(p, WB_ERR_IO, "tensor '%s' has '%s' twice" DAMAGED, item->string, names[k]);
        field[k] = c;
    }
    for (int k = 0; k < 3; k++)
        if (!field[k]) return refuse(p, WB_ERR_IO, "tensor '%s' has no '%s'" DAMAGED, item->string, names[k]);
    return WB_OK;
}

static wb_status parse_tensor(parser *p, const cJSON *item, wb_st_tensor *t, span *sp) {
    const cJSON *field[3] = {NULL, NULL, NULL};
    wb_status st = entry_fields(p, item, field);
    if (st != WB_OK) return st;
    const cJSON *dtype = field[0], *shape = field[1], *offs = field[2];
    const char *name = item->string;
    if (!cJSON_IsString(dtype) || !known_dtype(dtype->valuestring))
        return refuse(p, WB_ERR_IO, "tensor '%s' has an unknown dtype" DAMAGED, name);
    t->dtype = strcmp(dtype->valuestring, "F32") == 0    ? WB_ST_F32
               : strcmp(dtype->valuestring, "F16") == 0  ? WB_ST_F16
               : strcmp(dtype->valuestring, "BF16") == 0 ? WB_ST_BF16
                                                          : -1;
    if ((int)t->dtype < 0)
        return refuse(p, WB_ERR_UNSUPPORTED, "tensor '%s' has dtype %s; workbench reads F32, F16 and BF16 (as "
                      "float32): convert the file, e.g. in torch with {k: v.float() for k, v in state.items()}",
                      name, dtype->valuestring);
    const int64_t elem_size = t->dtype == WB_ST_F32 ? 4 : 2;
    int nd = cJSON_IsArray(shape) ? cJSON_GetArraySize(shape) : -1;
    if (nd < 0 || nd > WB_MAX_DIMS)
        return refuse(p, WB_ERR_IO, "tensor '%s': shape must be a list of at most %d dimensions" DAMAGED, name,
                      WB_MAX_DIMS);
    t->ndim = nd;
    t->numel = 1;
    const cJSON *d;
    int i = 0;
    cJSON_ArrayForEach(d, shape) {
        if (!exact_count(d, &t->shape[i]))
            return refuse(p, WB_ERR_IO, "tensor '%s': dimension %d is not a non-negative integer below 2^53" DAMAGED,
                          name, i);
        if (__builtin_mul_overflow(t->numel, t->shape[i], &t->numel))
            return refuse(p, WB_ERR_IO, "tensor '%s': its shape has more than 2^63 elements" DAMAGED, name);
        i++;
    }
    int64_t bytes;
    if (__builtin_mul_overflow(t->numel, (int64_t)4, &bytes)) /* its size once read as float32 */
        return refuse(p, WB_ERR_IO, "tensor '%s': its shape has more than 2^63 bytes" DAMAGED, name);
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || !exact_count(offs->child, &sp->begin) ||
        !exact_count(offs->child->next, &sp->end))
        return refuse(p, WB_ERR_IO, "tensor '%s': data_offsets must be [begin, end], two non-negative integers" DAMAGED,
                      name);
    if (sp->end < sp->begin || sp->end - sp->begin != t->numel * elem_size)
        return refuse(p, WB_ERR_IO, "tensor '%s': data_offsets [%lld, %lld] do not hold its %lld elements of %d bytes"
                      DAMAGED, name, (long long)sp->begin, (long long)sp->end, (long long)t->numel, (int)elem_size);
    t->name = strdup(name);
    return t->name ? WB_OK : refuse(p, WB_ERR_NOMEM, "out of memory");
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(wb_st_tensor *const *)a)->name, (*(wb_st_tensor *const *)b)->name);
}

static int by_key(const void *a, const void *b) {
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

static wb_status parse_metadata(parser *p, const cJSON *meta) {
    wb_st_file *f = p->out;
    if (f->meta_keys) return refuse(p, WB_ERR_IO, "__metadata__ appears twice" DAMAGED);
    if (!cJSON_IsObject(meta)) return refuse(p, WB_ERR_IO, "__metadata__ is not an object" DAMAGED);
    int n = cJSON_GetArraySize(meta);
    const cJSON **kv = malloc((size_t)(n ? n : 1) * sizeof *kv);
    f->meta_keys = calloc((size_t)(n ? n : 1), sizeof(char *));
    f->meta_values = calloc((size_t)(n ? n : 1), sizeof(char *));
    if (!kv || !f->meta_keys || !f->meta_values) {
        free(kv);
        return refuse(p, WB_ERR_NOMEM, "out of memory");
    }
    const cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, meta) kv[i++] = c;
    qsort(kv, (size_t)n, sizeof *kv, by_key);
    wb_status st = WB_OK;
    for (i = 0; i < n && st == WB_OK; i++) {
        if (!cJSON_IsString(kv[i]))
            st = refuse(p, WB_ERR_IO, "__metadata__.%s is not a string" DAMAGED, kv[i]->string);
        else if (i > 0 && strcmp(kv[i]->string, kv[i - 1]->string) == 0)
            st = refuse(p, WB_ERR_IO, "__metadata__.%s appears twice" DAMAGED, kv[i]->string);
        else if (!(f->meta_keys[i] = strdup(kv[i]->string)) || !(f->meta_values[i] = strdup(kv[i]->valuestring)))
            st = refuse(p, WB_ERR_NOMEM, "out of memory");
        f->n_meta = i + 1; /* what was allocated so far is freed by wb_st_free */
    }
    free(kv);
    return st;
}

static int by_offset(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* The tensors' bytes, in offset order, must cover [0, data_size) exactly once. */
static wb_status check_tiling(parser *p, size_t data_size) {
    wb_st_file *f = p->out;
    qsort(p->spans, (size_t)f->count, sizeof *p->spans, by_offset);
    int64_t at = 0;
    for (int i = 0; i < f->count; i++) {
        const span *s = &p->spans[i];
        const char *name = f->tensors[s->index].name;
        if (s->begin < at)
            return refuse(p, WB_ERR_IO, "tensor '%s' (bytes %lld..%lld) overlaps the tensor before it" DAMAGED, name,
                          (long long)s->begin, (long long)s->end);
        if (s->begin > at)
            return refuse(p, WB_ERR_IO, "%lld unused bytes before tensor '%s' (bytes %lld..%lld)" DAMAGED,
                          (long long)(s->begin - at), name, (long long)s->begin, (long long)s->end);
        at = s->end;
    }
    if ((uint64_t)at != data_size)
        return refuse(p, WB_ERR_IO, "the tensors hold %lld bytes but the file has %zu bytes of data" DAMAGED,
                      (long long)at, data_size);
    return WB_OK;
}

static wb_status parse_entries(parser *p, const cJSON *root, size_t data_size) {
    wb_st_file *f = p->out;
    int n = cJSON_GetArraySize(root);
    f->tensors = calloc((size_t)(n ? n : 1), sizeof *f->tensors);
    f->by_name = calloc((size_t)(n ? n : 1), sizeof *f->by_name);
    p->spans = calloc((size_t)(n ? n : 1), sizeof *p->spans);
    if (!f->tensors || !f->by_name || !p->spans) return refuse(p, WB_ERR_NOMEM, "out of memory");
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        wb_status st;
        if (strcmp(item->string, "__metadata__") == 0) {
            st = parse_metadata(p, item);
        } else {
            p->spans[f->count].index = f->count;
            st = parse_tensor(p, item, &f->tensors[f->count], &p->spans[f->count]);
            if (st == WB_OK) {
                f->by_name[f->count] = &f->tensors[f->count];
                f->count++;
            }
        }
        if (st != WB_OK) return st;
    }
    qsort(f->by_name, (size_t)f->count, sizeof *f->by_name, by_name);
    for (int i = 1; i < f->count; i++)
        if (strcmp(f->by_name[i]->name, f->by_name[i - 1]->name) == 0)
            return refuse(p, WB_ERR_IO, "tensor '%s' appears twice" DAMAGED, f->by_name[i]->name);
    return check_tiling(p, data_size);
}

/* The header (hlen bytes at hdr) against a data buffer of data_size bytes. */
static wb_status parse_header(parser *p, const char *hdr, size_t hlen, size_t data_size) {
    if (hlen == 0 || hdr[0] != '{') return refuse(p, WB_ERR_IO, "the header does not start with '{'" DAMAGED);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, hlen, &end, 0);
    if (!root) return refuse(p, WB_ERR_IO, "the JSON header does not parse" DAMAGED);
    /* The writer pads the header with spaces; anything else after the JSON is not ours to ignore. */
    for (const char *c = end; c < hdr + hlen; c++)
        if (!strchr(" \t\r\n", *c) || *c == '\0') {
            cJSON_Delete(root);
            return refuse(p, WB_ERR_IO, "the header has bytes after its JSON object" DAMAGED);
        }
    wb_status st = cJSON_IsObject(root) ? parse_entries(p, root, data_size)
                                        : refuse(p, WB_ERR_IO, "the JSON header is not an object" DAMAGED);
    cJSON_Delete(root);
    return st;
}

static uint64_t le64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

/* The header length from the first 8 bytes, checked against the file size. */
static wb_status header_length(parser *p, const unsigned char *first8, size_t size, size_t *hlen) {
    if (size < 8) return refuse(p, WB_ERR_IO, "shorter than the 8-byte header length" DAMAGED);
    uint64_t n = le64(first8);
    if (n > MAX_HEADER || n > size - 8)
        return refuse(p, WB_ERR_IO, "header length %llu exceeds %s" DAMAGED, (unsigned long long)n,
                      n > MAX_HEADER ? "workbench's limit of 16 MiB" : "the file");
    *hlen = (size_t)n;
    return WB_OK;
}

/* IEEE binary16 (sign, 5-bit exponent biased by 15, 10-bit fraction) to float. */
static float half_to_float(uint16_t h) {
    int exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
    float v = exponent == 0    ? ldexpf((float)fraction, -24) /* zero and subnormals */
              : exponent == 31 ? (fraction ? NAN : INFINITY)
                               : ldexpf((float)(fraction | 0x400), exponent - 25);
    return h & 0x8000 ? -v : v;
}

/* bfloat16 is the upper half of a float32. */
static float bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static uint16_t le16(const unsigned char *b) { return (uint16_t)(b[0] | b[1] << 8); }

/* Element k of a tensor stored at src (F32 there may sit at any even offset). */
static float widened(wb_st_dtype dtype, const unsigned char *src, int64_t k) {
    if (dtype == WB_ST_F16) return half_to_float(le16(src + 2 * k));
    if (dtype == WB_ST_BF16) return bf16_to_float(le16(src + 2 * k));
    float v;
    memcpy(&v, src + 4 * k, sizeof v);
    return v;
}

/* Points every tensor into data (malloc'd, so aligned for floats). F16 and
 * BF16 tensors are widened into a float32 copy of the whole buffer, so that
 * every tensor's data is float32 as the rest of workbench expects. */
static wb_status attach(parser *p, unsigned char *data, size_t data_size) {
    wb_st_file *f = p->out;
    const span *spans = p->spans;
    size_t floats = 0;
    bool narrow = false;
    for (int i = 0; i < f->count; i++) {
        floats += (size_t)f->tensors[spans[i].index].numel; /* <= data_size / 2: no overflow */
        narrow = narrow || f->tensors[spans[i].index].dtype != WB_ST_F32;
    }
    unsigned char *wide = narrow ? malloc(floats ? floats * sizeof(float) : 1) : data;
    if (!wide) {
        free(data);
        return refuse(p, WB_ERR_NOMEM, "out of memory for %zu float32 values widened from F16 / BF16", floats);
    }
    size_t at = 0;
    for (int i = 0; i < f->count; i++) {
        wb_st_tensor *t = &f->tensors[spans[i].index];
        const unsigned char *src = data + spans[i].begin;
        t->data = narrow ? (float *)wide + at : (float *)(void *)(data + spans[i].begin);
        for (int64_t k = 0; narrow && k < t->numel; k++) t->data[k] = widened(t->dtype, src, k);
        at += (size_t)t->numel;
    }
    if (narrow) free(data);
    f->data = wide;
    f->data_size = narrow ? floats * sizeof(float) : data_size;
    return WB_OK;
}

static wb_status finish(parser *p, wb_status st, const char *name, char *err, size_t n) {
    free(p->spans);
    if (st == WB_OK) return WB_OK;
    wb_st_free(p->out);
    snprintf(err, n, "%s: %s", name, p->why);
    return st;
}

wb_status wb_st_parse(const unsigned char *bytes, size_t size, const char *name, wb_st_file *out, char *err,
                      size_t n) {
    memset(out, 0, sizeof *out);
    parser p = {out, NULL, ""};
    size_t hlen = 0;
    wb_status st = header_length(&p, bytes, size, &hlen);
    if (st == WB_OK) st = parse_header(&p, (const char *)bytes + 8, hlen, size - 8 - hlen);
    if (st == WB_OK) {
        size_t data_size = size - 8 - hlen;
        unsigned char *data = malloc(data_size ? data_size : 1);
        if (data) {
            memcpy(data, bytes + 8 + hlen, data_size);
            st = attach(&p, data, data_size);
        } else {
            st = refuse(&p, WB_ERR_NOMEM, "out of memory for %zu bytes of tensor data", data_size);
        }
    }
    return finish(&p, st, name, err, n);
}

static bool read_exact(FILE *f, void *buf, size_t n) { return n == 0 || fread(buf, 1, n, f) == n; }

static wb_status read_file(const char *path, bool with_data, wb_st_file *out, char *err, size_t n) {
    memset(out, 0, sizeof *out);
    FILE *file = wb_open_regular(path, err, n);
    if (!file) return WB_ERR_IO;
    parser p = {out, NULL, ""};
    struct stat sb;
    unsigned char first8[8];
    char *hdr = NULL;
    size_t size = 0, hlen = 0;
    wb_status st = fstat(fileno(file), &sb) == 0 ? WB_OK : refuse(&p, WB_ERR_IO, "%s", strerror(errno));
    if (st == WB_OK) size = (size_t)sb.st_size;
    if (st == WB_OK && size >= 8 && !read_exact(file, first8, 8)) st = refuse(&p, WB_ERR_IO, "read error");
    if (st == WB_OK) st = header_length(&p, first8, size, &hlen);
    /* The header is checked against the file size before the data is read. */
    if (st == WB_OK && !(hdr = malloc(hlen ? hlen : 1))) st = refuse(&p, WB_ERR_NOMEM, "out of memory");
    if (st == WB_OK && !read_exact(file, hdr, hlen)) st = refuse(&p, WB_ERR_IO, "read error in the header");
    if (st == WB_OK) st = parse_header(&p, hdr, hlen, size - 8 - hlen);
    free(hdr);
    if (st == WB_OK && with_data) {
        size_t data_size = size - 8 - hlen;
        unsigned char *data = malloc(data_size ? data_size : 1);
        if (!data) st = refuse(&p, WB_ERR_NOMEM, "out of memory for %zu bytes of tensor data", data_size);
        else if (!read_exact(file, data, data_size) || fgetc(file) != EOF) {
            free(data);
            st = refuse(&p, WB_ERR_IO, "the file changed size while it was read");
        } else {
            st = attach(&p, data, data_size);
        }
    }
    fclose(file);
    return finish(&p, st, path, err, n);
}

wb_status wb_st_read(const char *path, wb_st_file *out, char *err, size_t n) {
    return read_file(path, true, out, err, n);
}

wb_status wb_st_read_header(const char *path, wb_st_file *out, char *err, size_t n) {
    return read_file(path, false, out, err, n);
}

const wb_st_tensor *wb_st_find(const wb_st_file *f, const char *name) {
    wb_st_tensor key = {.name = (char *)name}, *k = &key;
    wb_st_tensor **hit = f->count ? bsearch(&k, f->by_name, (size_t)f->count, sizeof *f->by_name, by_name) : NULL;
    return hit ? *hit : NULL;
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
    free(f->by_name);
    free(f->meta_keys);
    free(f->meta_values);
    free(f->data);
    memset(f, 0, sizeof *f);
}
