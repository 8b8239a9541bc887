#include "publish.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../io/file_read.h"
#include "../io/safetensors.h"

/* The trainer state in a checkpoint's __metadata__ (core/train/checkpoint.c): a published file has none, so
 * --resume refuses it while load_from takes it. */
static const char *const k_trainer_meta[] = {"iteration", "epoch", "epoch_iteration", "world_size", "best_score",
                                             "best_checkpoint", "optimizer_steps", "ema_steps", NULL};

unsigned short wb_float_to_half(float f) {
    unsigned short sign = signbit(f) ? 0x8000 : 0;
    float a = fabsf(f);
    if (isnan(f)) return sign | 0x7e00;
    if (a >= 65520.0f) return sign | 0x7c00; /* halfway past the largest half (65504) and beyond: infinity */
    if (a < 0x1p-14f) return sign | (unsigned short)lrintf(a * 0x1p24f); /* subnormal: units of 2^-24, exact */
    int e;
    frexpf(a, &e);                                 /* a = m 2^e, m in [0.5, 1) */
    long q = lrintf(ldexpf(a, 11 - e));            /* 11 significant bits, rounded to even: 1024 .. 2048 */
    int exponent = e - 1 + 15;
    if (q == 2048) q = 1024, exponent++;
    return sign | (unsigned short)(exponent << 10) | (unsigned short)(q - 1024);
}

static bool trainer_meta(const char *key) {
    for (int i = 0; k_trainer_meta[i]; i++)
        if (strcmp(key, k_trainer_meta[i]) == 0) return true;
    return false;
}

/* The hex SHA-256 of a file's bytes. */
static int sha256_hex(const char *path, char hex[65], char *err, size_t n) {
    size_t size = 0;
    char *bytes = wb_read_file(path, (size_t)1 << 40, "published file", &size, err, n);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int ok = bytes && EVP_Digest(bytes, size, md, &len, EVP_sha256(), NULL) == 1 && len == 32;
    free(bytes);
    if (!ok) return -1;
    for (unsigned i = 0; i < len; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* The tensor published under t's name: its EMA average when there is one and it is wanted. */
static const wb_st_tensor *source_of(const wb_st_file *f, const wb_st_tensor *t, bool ema) {
    if (!ema) return t;
    char name[1024];
    snprintf(name, sizeof name, "ema.%s", t->name);
    const wb_st_tensor *avg = wb_st_find(f, name);
    return avg ? avg : t;
}

/* Adds the published tensors to w; halves (kept until the write) are returned through *halves. */
static int add_tensors(const wb_st_file *f, const wb_publish_opts *o, bool ema, wb_st_writer *w,
                       uint16_t **halves, int *n_weights, int *n_ema, char *err, size_t n) {
    for (int i = 0; i < f->count; i++) {
        const wb_st_tensor *t = &f->tensors[i];
        if (strstr(t->name, "::") || strncmp(t->name, "ema.", 4) == 0) continue;
        const wb_st_tensor *src = source_of(f, t, ema);
        *n_ema += src != t;
        (*n_weights)++;
        for (int64_t k = 0; k < src->numel; k++)
            if (!isfinite(src->data[k]) || (o->fp16 && fabsf(src->data[k]) >= 65520.0f)) {
                snprintf(err, n, "%s: %s[%lld] = %g %s", o->checkpoint, src->name, (long long)k, src->data[k],
                         isfinite(src->data[k]) ? "does not fit in float16 (at most 65504); leave out --fp16"
                                                : "is not finite; publish a checkpoint of a run before it diverged");
                return -1;
            }
        if (!o->fp16) {
            wb_st_writer_add(w, t->name, t->ndim, t->shape, src->data);
            continue;
        }
        uint16_t *h = malloc((size_t)(src->numel ? src->numel : 1) * sizeof *h);
        if (!h) {
            snprintf(err, n, "out of memory converting %s to float16", t->name);
            return -1;
        }
        for (int64_t k = 0; k < src->numel; k++) h[k] = wb_float_to_half(src->data[k]);
        halves[i] = h;
        wb_st_writer_add_raw(w, t->name, "F16", sizeof *h, t->ndim, t->shape, h);
    }
    return 0;
}

int wb_publish(const wb_publish_opts *o, FILE *out) {
    char err[9000], stem[4096], tmp[4200], final[4200], hex[65];
    size_t len = strlen(o->out);
    const char *ext = ".safetensors";
    if (len > strlen(ext) && strcmp(o->out + len - strlen(ext), ext) == 0) len -= strlen(ext);
    if (len + 32 >= sizeof stem) {
        fprintf(out, "error: the output name %s is too long\n", o->out);
        return 1;
    }
    snprintf(stem, sizeof stem, "%.*s", (int)len, o->out);
    wb_st_file f;
    if (wb_st_read(o->checkpoint, &f, err, sizeof err) != WB_OK) {
        fprintf(out, "error: %s\n", err);
        return 1;
    }
    bool ema = false;
    int optimizer = 0;
    for (int i = 0; i < f.count; i++) {
        ema |= strncmp(f.tensors[i].name, "ema.", 4) == 0 && !o->raw_weights;
        optimizer += strstr(f.tensors[i].name, "::") != NULL;
    }
    uint16_t **halves = calloc((size_t)f.count + 1, sizeof *halves);
    wb_st_writer *w = wb_st_writer_new();
    int n_weights = 0, n_ema = 0, rc = 1;
    snprintf(tmp, sizeof tmp, "%s.publishing.safetensors", stem);
    if (!halves || !w) snprintf(err, sizeof err, "out of memory");
    else if (add_tensors(&f, o, ema, w, halves, &n_weights, &n_ema, err, sizeof err) == 0) {
        for (int i = 0; i < f.n_meta; i++)
            if (!trainer_meta(f.meta_keys[i])) wb_st_writer_meta(w, f.meta_keys[i], f.meta_values[i]);
        rc = wb_st_writer_save(w, tmp, err, sizeof err) == WB_OK ? 0 : 1;
    }
    /* the name carries the hash of the bytes, so it is known only once they are written */
    if (rc == 0 && sha256_hex(tmp, hex, err, sizeof err) != 0) rc = 1;
    if (rc == 0) {
        snprintf(final, sizeof final, "%s-%.8s.safetensors", stem, hex);
        if (rename(tmp, final) != 0) {
            snprintf(err, sizeof err, "cannot rename %s to %s", tmp, final);
            rc = 1;
        }
    }
    if (rc != 0) {
        remove(tmp);
        fprintf(out, "error: %s\n", err);
    } else {
        fprintf(out, "published %s: %d weight tensors", o->checkpoint, n_weights);
        if (n_ema) fprintf(out, " (%d of them the EMA averages)", n_ema);
        fprintf(out, "%s; left out: %d optimizer state tensors and the trainer state\nsha256 %s\n%s\n",
                o->fp16 ? " in float16" : "", optimizer, hex, final);
    }
    for (int i = 0; halves && i < f.count; i++) free(halves[i]);
    free(halves);
    wb_st_writer_free(w);
    wb_st_free(&f);
    return rc;
}
