#include "host_copy.h"

#include <stdlib.h>

static float *host_buffer(int64_t n) { return malloc((size_t)(n > 0 ? n : 1) * sizeof(float)); }

const float *wb_host_read(const wb_backend *be, const float *src, int64_t n) {
    if (wb_backend_host_memory(be)) return src;
    float *copy = host_buffer(n);
    if (copy && n > 0) be->download(copy, src, (size_t)n * sizeof(float));
    return copy;
}

void wb_host_read_end(const wb_backend *be, const float *src, const float *view) {
    if (view != src && !wb_backend_host_memory(be)) free((float *)view);
}

float wb_host_read_value(const wb_backend *be, const float *src) {
    if (wb_backend_host_memory(be)) return *src;
    float v = 0.0f;
    be->download(&v, src, sizeof v);
    return v;
}

float *wb_host_write(const wb_backend *be, float *dst, int64_t n) {
    return wb_backend_host_memory(be) ? dst : host_buffer(n);
}

void wb_host_write_end(const wb_backend *be, float *dst, float *host, int64_t n) {
    if (!host || host == dst || wb_backend_host_memory(be)) return;
    if (n > 0) be->upload(dst, host, (size_t)n * sizeof(float));
    free(host);
}

void wb_host_copies_init(wb_host_copies *c, const wb_backend *be) { *c = (wb_host_copies){.be = be}; }

const float *wb_host_copies_read(wb_host_copies *c, const float *src, int64_t n) {
    if (wb_backend_host_memory(c->be)) return src;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 64;
        float **grown = realloc(c->copies, (size_t)cap * sizeof *grown);
        if (!grown) {
            c->failed = true;
            return NULL;
        }
        c->copies = grown;
        c->cap = cap;
    }
    float *copy = (float *)wb_host_read(c->be, src, n);
    if (!copy) {
        c->failed = true;
        return NULL;
    }
    c->copies[c->n++] = copy;
    return copy;
}

void wb_host_copies_free(wb_host_copies *c) {
    for (int i = 0; i < c->n; i++) free(c->copies[i]);
    free(c->copies);
    *c = (wb_host_copies){.be = c->be};
}
