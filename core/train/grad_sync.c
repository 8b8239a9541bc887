#include "grad_sync.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../backends/kernels_optim.h"
#include "../runtime/tensor_refs.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static bool syncs(const wb_session *s, int i) {
    return !s->params[i].is_buffer && s->params[i].tensor->trainable;
}

static void drop_plan(wb_grad_sync *g) {
    for (int b = 0; b < g->n_buckets; b++) {
        free(g->buckets[b].host);
        if (g->buckets[b].device) g->device_backend->free(g->buckets[b].device, WB_BUF_WEIGHTS);
    }
    free(g->buckets), free(g->order), free(g->bucket_of), free(g->by_tensor), free(g->by_tensor_index), free(g->final);
    g->buckets = NULL, g->order = NULL, g->bucket_of = NULL, g->by_tensor = NULL, g->by_tensor_index = NULL;
    g->final = NULL;
    g->n_buckets = g->n_order = 0;
    g->device_backend = NULL;
}

/* Whether the plan still matches the trainable set (train.freeze changes it). */
static bool plan_current(const wb_grad_sync *g, const wb_session *s) {
    if (!g->order) return false;
    int k = 0;
    for (int i = s->n_params - 1; i >= 0; i--)
        if (syncs(s, i) && (k >= g->n_order || g->order[k++] != i)) return false;
    return k == g->n_order;
}

static const wb_session *g_sort_session; /* qsort has no user pointer */
static int by_address(const void *a, const void *b) {
    const wb_tensor *x = g_sort_session->params[*(const int *)a].tensor;
    const wb_tensor *y = g_sort_session->params[*(const int *)b].tensor;
    return x == y ? 0 : (uintptr_t)x < (uintptr_t)y ? -1 : 1;
}

/* Buckets of about bucket_mb over the trainable parameters in reverse order
 * (DDP's bucket_cap_mb; a parameter larger than that is a bucket of its own). */
static wb_status make_plan(wb_grad_sync *g, wb_session *s, char *err, size_t n) {
    drop_plan(g);
    int np = s->n_params;
    g->order = malloc((size_t)(np ? np : 1) * sizeof *g->order);
    g->bucket_of = malloc((size_t)(np ? np : 1) * sizeof *g->bucket_of);
    g->final = calloc((size_t)(np ? np : 1), sizeof *g->final);
    g->buckets = calloc((size_t)(np ? np : 1), sizeof *g->buckets);
    g->by_tensor = malloc((size_t)(np ? np : 1) * sizeof *g->by_tensor);
    g->by_tensor_index = malloc((size_t)(np ? np : 1) * sizeof *g->by_tensor_index);
    if (!g->order || !g->bucket_of || !g->final || !g->buckets || !g->by_tensor || !g->by_tensor_index) goto nomem;
    int64_t cap = g->bucket_mb > 0 ? (int64_t)(g->bucket_mb * 1024 * 1024 / sizeof(float)) : INT64_MAX, filled = 0;
    for (int i = np - 1; i >= 0; i--) {
        g->bucket_of[i] = -1;
        if (!syncs(s, i)) continue;
        int64_t numel = s->params[i].tensor->numel;
        if (g->n_buckets == 0 || (filled > 0 && filled + numel > cap)) {
            g->buckets[g->n_buckets++] = (wb_grad_bucket){.first = g->n_order, .end = g->n_order};
            filled = 0;
        }
        wb_grad_bucket *b = &g->buckets[g->n_buckets - 1];
        g->bucket_of[i] = g->n_buckets - 1;
        g->order[g->n_order++] = i;
        b->end++;
        b->numel += 1 + numel;
        filled += numel;
    }
    if (wb_dist_device_sums()) g->device_backend = s->backend;
    for (int b = 0; b < g->n_buckets; b++) {
        wb_grad_bucket *k = &g->buckets[b];
        int64_t flags = k->end - k->first;
        if (!(k->host = malloc((size_t)(g->device_backend ? flags : k->numel) * sizeof(float)))) goto nomem;
        if (g->device_backend &&
            !(k->device = g->device_backend->alloc((size_t)(k->numel - flags) * sizeof(float), WB_BUF_WEIGHTS)))
            goto nomem;
    }
    memcpy(g->by_tensor_index, g->order, (size_t)g->n_order * sizeof *g->order);
    g_sort_session = s;
    qsort(g->by_tensor_index, (size_t)g->n_order, sizeof *g->by_tensor_index, by_address);
    for (int k = 0; k < g->n_order; k++) g->by_tensor[k] = s->params[g->by_tensor_index[k]].tensor;
    return WB_OK;
nomem:
    drop_plan(g);
    snprintf(err, n, "out of memory for the gradient buckets of the all-reduce (%d parameters)", np);
    return WB_ERR_NOMEM;
}

/* The session index of a synced tensor, or -1 (a parameter frozen since). */
static int index_of(const wb_grad_sync *g, const wb_tensor *t) {
    int lo = 0, hi = g->n_order - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (g->by_tensor[mid] == t) return g->by_tensor_index[mid];
        if ((uintptr_t)g->by_tensor[mid] < (uintptr_t)t) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* The NCCL table's start: the gradients into the bucket's device buffer on the
 * GPU (asynchronous copies on the compute stream, which the sum is ordered
 * after), the flags into its host buffer; both sums start. */
static wb_status start_on_device(wb_grad_sync *g, wb_grad_bucket *b, char *err, size_t n) {
    double t0 = now_s();
    const wb_session *s = g->s;
    float *flags = b->host, *at = b->device;
    for (int k = b->first; k < b->end; k++) {
        const wb_tensor *p = s->params[g->order[k]].tensor;
        size_t bytes = (size_t)p->numel * sizeof *at;
        flags[k - b->first] = p->grad_valid ? 1.0f : 0.0f;
        if (p->grad_valid) s->backend->copy(at, p->grad, bytes);
        else s->backend->zero(at, bytes);
        at += p->numel;
    }
    g->pack_seconds += now_s() - t0;
    g->started++;
    int64_t n_flags = b->end - b->first;
    wb_status rc = wb_dist_isum_f32(flags, n_flags, &b->request, err, n);
    return rc == WB_OK ? wb_dist_isum_device_f32(b->device, b->numel - n_flags, &b->device_request, err, n) : rc;
}

/* Flags and gradients into the bucket's host buffer, then its sum starts. */
static wb_status start(wb_grad_sync *g, wb_grad_bucket *b, char *err, size_t n) {
    if (g->device_backend) return start_on_device(g, b, err, n);
    double t0 = now_s();
    const wb_session *s = g->s;
    float *flags = b->host, *at = b->host + (b->end - b->first);
    for (int k = b->first; k < b->end; k++) {
        const wb_tensor *p = s->params[g->order[k]].tensor;
        size_t bytes = (size_t)p->numel * sizeof *at;
        flags[k - b->first] = p->grad_valid ? 1.0f : 0.0f;
        if (p->grad_valid) s->backend->download(at, p->grad, bytes);
        else memset(at, 0, bytes);
        at += p->numel;
    }
    g->pack_seconds += now_s() - t0;
    g->started++;
    return wb_dist_isum_f32(b->host, b->numel, &b->request, err, n);
}

/* Starts the buckets whose parameters are all final, in bucket order (every
 * rank starts them in the same order), and lets MPI move those in flight on. */
static void start_ready(wb_grad_sync *g) {
    while (g->failed == WB_OK && g->next < g->n_buckets && g->buckets[g->next].waiting == 0) {
        g->failed = start(g, &g->buckets[g->next], g->failed_msg, sizeof g->failed_msg);
        g->started_early++;
        g->next++;
    }
    for (int b = 0; b < g->next; b++) {
        wb_dist_test(g->buckets[b].request);
        if (g->device_backend) wb_dist_test_device(g->buckets[b].device_request);
    }
}

void wb_grad_sync_on_final(void *user, wb_tensor *param) {
    wb_grad_sync *g = user;
    int i = g->open ? index_of(g, param) : -1;
    if (i < 0 || g->final[i]) return;
    g->final[i] = true;
    g->buckets[g->bucket_of[i]].waiting--;
    start_ready(g);
}

wb_status wb_grad_sync_begin(wb_grad_sync *g, wb_session *s, wb_tape *const *tapes, int n_tapes, char *err,
                             size_t n) {
    if (wb_dist_world() == 1) return WB_OK;
    if (!plan_current(g, s)) {
        wb_status rc = make_plan(g, s, err, n);
        if (rc != WB_OK) return rc;
    }
    g->s = s;
    g->open = true;
    g->next = 0;
    g->failed = WB_OK;
    memset(g->final, 0, (size_t)s->n_params * sizeof *g->final);
    for (int b = 0; b < g->n_buckets; b++) g->buckets[b].waiting = g->buckets[b].end - g->buckets[b].first;
    if (n_tapes > (int)(sizeof g->tapes / sizeof g->tapes[0])) {
        snprintf(err, n, "the gradient buckets listen to at most %d module tapes, the model has %d",
                 (int)(sizeof g->tapes / sizeof g->tapes[0]), n_tapes);
        return WB_ERR_INTERNAL;
    }
    /* bucket_mb = 0: one sum after the whole backward, nothing to hook */
    g->n_tapes = g->bucket_mb > 0 ? n_tapes : 0;
    for (int t = 0; t < g->n_tapes; t++) {
        g->tapes[t] = tapes[t];
        tapes[t]->on_final = wb_grad_sync_on_final;
        tapes[t]->on_final_user = g;
    }
    return WB_OK;
}

wb_status wb_grad_sync_launch_rest(wb_grad_sync *g, char *err, size_t n) {
    if (!g->open) return WB_OK;
    for (int t = 0; t < g->n_tapes; t++) g->tapes[t]->on_final = NULL;
    g->n_tapes = 0;
    wb_status rc = g->failed;
    if (rc != WB_OK) snprintf(err, n, "%s", g->failed_msg);
    for (; g->next < g->n_buckets; g->next++) {
        char why[256];
        wb_status st = start(g, &g->buckets[g->next], why, sizeof why);
        if (st != WB_OK && rc == WB_OK) {
            rc = st;
            snprintf(err, n, "%s", why);
        }
    }
    return rc;
}

/* The sum of bucket b landed: its averaged gradients back to the parameters
 * (on the NCCL table: scaled and copied on the GPU, the flags from the host). */
static wb_status unpack(wb_grad_sync *g, wb_grad_bucket *b, char *err, size_t n) {
    wb_session *s = g->s;
    const float scale = 1.0f / (float)wb_dist_world();
    const float *flags = b->host;
    int64_t n_flags = b->end - b->first;
    float *at = g->device_backend ? b->device : b->host + n_flags;
    if (g->device_backend) s->backend->optim->scale(at, b->numel - n_flags, scale);
    for (int k = b->first; k < b->end; k++) {
        const wb_param_entry *e = &s->params[g->order[k]];
        wb_tensor *p = e->tensor;
        if (flags[k - b->first] > 0.0f) {
            if (!p->grad && !(p->grad = wb_grad_alloc(s, p))) {
                snprintf(err, n, "out of memory for the gradient of %s", e->name);
                return WB_ERR_NOMEM;
            }
            if (g->device_backend) {
                s->backend->copy(p->grad, at, (size_t)p->numel * sizeof *at);
            } else {
                for (int64_t j = 0; j < p->numel; j++) at[j] *= scale;
                s->backend->upload(p->grad, at, (size_t)p->numel * sizeof *at);
            }
            p->grad_valid = true;
        }
        at += p->numel;
    }
    return WB_OK;
}

wb_status wb_grad_sync_finish(wb_grad_sync *g, char *err, size_t n) {
    if (!g->open) return WB_OK;
    wb_status rc = WB_OK;
    for (int b = 0; b < g->n_buckets; b++) {
        double t0 = now_s();
        wb_status st = wb_dist_wait(&g->buckets[b].request, err, n);
        if (rc == WB_OK) rc = st;
        st = wb_dist_wait_device(&g->buckets[b].device_request, err, n);
        g->wait_seconds += now_s() - t0;
        if (rc == WB_OK) rc = st;
        t0 = now_s();
        if (rc == WB_OK) rc = unpack(g, &g->buckets[b], err, n);
        g->pack_seconds += now_s() - t0;
    }
    g->open = false;
    g->rounds++;
    return rc;
}

void wb_grad_sync_free(wb_grad_sync *g) {
    char err[256];
    for (int b = 0; b < g->n_buckets; b++) {
        wb_dist_wait(&g->buckets[b].request, err, sizeof err);
        wb_dist_wait_device(&g->buckets[b].device_request, err, sizeof err);
    }
    drop_plan(g);
    memset(g, 0, sizeof *g);
}

/* FNV-1a over the bytes of every weight (not the buffers), read through a host buffer. */
static wb_status weights_hash(const wb_session *s, uint64_t *hash, char *err, size_t n) {
    uint64_t h = 1469598103934665603ull;
    enum { CHUNK = 1 << 16 };
    float *host = malloc(CHUNK * sizeof *host);
    if (!host) {
        snprintf(err, n, "out of memory hashing the weights");
        return WB_ERR_NOMEM;
    }
    for (int i = 0; i < s->n_params; i++) {
        const wb_tensor *t = s->params[i].tensor;
        for (int64_t at = 0; !s->params[i].is_buffer && at < t->numel; at += CHUNK) {
            int64_t len = t->numel - at < CHUNK ? t->numel - at : CHUNK;
            s->backend->download(host, t->data + at, (size_t)len * sizeof *host);
            const unsigned char *b = (const unsigned char *)host;
            for (size_t k = 0; k < (size_t)len * sizeof *host; k++) h = (h ^ b[k]) * 1099511628211ull;
        }
    }
    free(host);
    *hash = h;
    return WB_OK;
}

/* Rank 0's value of a buffer on every rank, through a host copy. */
static wb_status broadcast_buffer(const wb_session *s, wb_tensor *t, char *err, size_t n) {
    size_t bytes = (size_t)t->numel * sizeof(float);
    float *host = malloc(bytes ? bytes : 1);
    if (!host) {
        snprintf(err, n, "out of memory broadcasting %s", t->name ? t->name : "a buffer");
        return WB_ERR_NOMEM;
    }
    s->backend->download(host, t->data, bytes);
    wb_status rc = wb_dist_broadcast(host, (int64_t)bytes, 0, err, n);
    if (rc == WB_OK) s->backend->upload(t->data, host, bytes);
    free(host);
    return rc;
}

wb_status wb_grad_sync_align(wb_session *s, char *err, size_t n) {
    if (wb_dist_world() == 1) return WB_OK;
    wb_status rc = WB_OK;
    for (int i = 0; rc == WB_OK && i < s->n_params; i++)
        if (s->params[i].is_buffer) rc = broadcast_buffer(s, s->params[i].tensor, err, n);
    uint64_t mine = 0, root = 0;
    if (rc == WB_OK) rc = weights_hash(s, &mine, err, n);
    root = mine;
    if (rc == WB_OK) rc = wb_dist_broadcast(&root, sizeof root, 0, err, n);
    double differ[2] = {mine != root, mine != root ? wb_dist_rank() : 0};
    if (rc == WB_OK) rc = wb_dist_sum_f64(differ, 2, err, n);
    if (rc != WB_OK || differ[0] == 0) return rc;
    snprintf(err, n, "%d rank%s (rank %d%s) hold%s other weights than rank 0: the ranks diverged, which is a bug of "
             "the data-parallel training; please report it with the experiment", (int)differ[0],
             differ[0] > 1 ? "s" : "", (int)differ[1], differ[0] > 1 ? " and more" : "", differ[0] > 1 ? "" : "s");
    return WB_ERR_INTERNAL;
}
