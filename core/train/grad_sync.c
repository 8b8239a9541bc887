#include "grad_sync.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../dist/dist.h"
#include "../runtime/tensor_refs.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static bool syncs(const wb_session *s, int i) {
    return !s->params[i].is_buffer && s->params[i].tensor->trainable;
}

static wb_status ensure_buffer(wb_grad_sync *g, wb_session *s, char *err, size_t n) {
    int64_t numel = s->n_params;
    for (int i = 0; i < s->n_params; i++)
        if (syncs(s, i)) numel += s->params[i].tensor->numel;
    if (numel <= g->numel) return WB_OK;
    free(g->flat);
    g->flat = malloc((size_t)numel * sizeof *g->flat);
    g->numel = g->flat ? numel : 0;
    if (g->flat) return WB_OK;
    snprintf(err, n, "out of memory for the gradient all-reduce buffer (%lld floats)", (long long)numel);
    return WB_ERR_NOMEM;
}

wb_status wb_grad_sync_average(wb_grad_sync *g, wb_session *s, char *err, size_t n) {
    int world = wb_dist_world();
    if (world == 1) return WB_OK;
    wb_status rc = ensure_buffer(g, s, err, n);
    if (rc != WB_OK) return rc;
    s->backend->synchronize();
    float *flags = g->flat, *at = g->flat + s->n_params;
    for (int i = 0; i < s->n_params; i++) {
        flags[i] = 0.0f;
        if (!syncs(s, i)) continue;
        const wb_tensor *p = s->params[i].tensor;
        flags[i] = p->grad_valid ? 1.0f : 0.0f;
        if (p->grad_valid) memcpy(at, p->grad, (size_t)p->numel * sizeof *at);
        else memset(at, 0, (size_t)p->numel * sizeof *at);
        at += p->numel;
    }
    double t0 = now_s();
    rc = wb_dist_sum_f32(g->flat, at - g->flat, err, n);
    g->seconds += now_s() - t0;
    g->calls++;
    if (rc != WB_OK) return rc;
    const float scale = 1.0f / (float)world;
    at = g->flat + s->n_params;
    for (int i = 0; i < s->n_params; i++) {
        if (!syncs(s, i)) continue;
        wb_tensor *p = s->params[i].tensor;
        if (flags[i] > 0.0f) {
            if (!p->grad && !(p->grad = wb_grad_alloc(s, p))) {
                snprintf(err, n, "out of memory for the gradient of %s", s->params[i].name);
                return WB_ERR_NOMEM;
            }
            for (int64_t k = 0; k < p->numel; k++) p->grad[k] = at[k] * scale;
            p->grad_valid = true;
        }
        at += p->numel;
    }
    return WB_OK;
}

void wb_grad_sync_free(wb_grad_sync *g) {
    free(g->flat);
    memset(g, 0, sizeof *g);
}

/* FNV-1a over the bytes of every weight (not the buffers). */
static uint64_t weights_hash(const wb_session *s) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < s->n_params; i++) {
        if (s->params[i].is_buffer) continue;
        const unsigned char *b = (const unsigned char *)s->params[i].tensor->data;
        for (size_t k = 0; k < (size_t)s->params[i].tensor->numel * sizeof(float); k++) h = (h ^ b[k]) * 1099511628211ull;
    }
    return h;
}

wb_status wb_grad_sync_align(wb_session *s, char *err, size_t n) {
    if (wb_dist_world() == 1) return WB_OK;
    s->backend->synchronize();
    wb_status rc = WB_OK;
    for (int i = 0; rc == WB_OK && i < s->n_params; i++) {
        wb_tensor *t = s->params[i].tensor;
        if (s->params[i].is_buffer) rc = wb_dist_broadcast(t->data, t->numel * (int64_t)sizeof(float), 0, err, n);
    }
    uint64_t mine = weights_hash(s), root = mine;
    if (rc == WB_OK) rc = wb_dist_broadcast(&root, sizeof root, 0, err, n);
    double differ[2] = {mine != root, mine != root ? wb_dist_rank() : 0};
    if (rc == WB_OK) rc = wb_dist_sum_f64(differ, 2, err, n);
    if (rc != WB_OK || differ[0] == 0) return rc;
    snprintf(err, n, "%d rank%s (rank %d%s) hold%s other weights than rank 0: the ranks diverged, which is a bug of "
             "the data-parallel training; please report it with the experiment", (int)differ[0],
             differ[0] > 1 ? "s" : "", (int)differ[1], differ[0] > 1 ? " and more" : "", differ[0] > 1 ? "" : "s");
    return WB_ERR_INTERNAL;
}
