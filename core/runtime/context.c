#include "context.h"
#include "host_maps.h"
#include "../backends/kernels_layout.h"
#include "tensor_refs.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void wb_context_init(wb_context *c, wb_session *s, const char *path, bool grad_enabled) {
    memset(c, 0, sizeof *c);
    c->pub.struct_size = sizeof c->pub;
    c->pub.host = wb_host_api_table();
    c->s = s;
    snprintf(c->path, sizeof c->path, "%s", path ? path : "");
    c->grad_enabled = grad_enabled;
    c->rng = wb_rng_seed_for(s ? s->seed : 0, c->path);
}

wb_status wb_ctx_vfail(wb_context *c, wb_status status, const char *fmt, va_list ap) {
    if (c->err != WB_OK) return status; /* keep the first, root-cause message */
    c->err = status == WB_OK ? WB_ERR_INTERNAL : status;
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    return status;
}

wb_status wb_ctx_fail(wb_context *c, wb_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wb_ctx_vfail(c, status, fmt, ap);
    va_end(ap);
    return status;
}

void wb_ctx_clear_error(wb_context *c) {
    c->err = WB_OK;
    c->msg[0] = '\0';
}

static bool valid_shape(wb_context *c, int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > WB_MAX_DIMS) {
        wb_ctx_fail(c, WB_ERR_INVALID, "tensor rank %d is outside 0..%d", ndim, WB_MAX_DIMS);
        return false;
    }
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            wb_ctx_fail(c, WB_ERR_INVALID, "tensor dimension %d is negative (%lld)", i,
                        (long long)shape[i]);
            return false;
        }
    }
    return true;
}

wb_tensor *wb_ctx_tensor_header(wb_context *c, int ndim, const int64_t *shape) {
    if (!valid_shape(c, ndim, shape)) return NULL;
    wb_tensor *t = wb_arena_calloc(&c->s->compute, sizeof *t);
    if (!t) {
        wb_ctx_fail(c, WB_ERR_NOMEM, "out of memory for a tensor header");
        return NULL;
    }
    t->ndim = ndim;
    if (ndim > 0) memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = wb_shape_numel(ndim, shape);
    t->device = c->s->backend->device;
    t->maker = c;
    if (c->tracking) {
        t->next_created = c->created;
        c->created = t;
    }
    return t;
}

wb_tensor *wb_ctx_tensor_uninit(wb_context *c, int ndim, const int64_t *shape) {
    wb_tensor *t = wb_ctx_tensor_header(c, ndim, shape);
    if (!t) return NULL;
    size_t bytes = (size_t)t->numel * sizeof(float);
    wb_storage *st = wb_arena_alloc(&c->s->compute, sizeof *st);
    float *data = st ? wb_pool_alloc(&c->s->tensors, bytes) : NULL;
    if (!data) {
        wb_ctx_fail(c, WB_ERR_NOMEM, "out of memory for a tensor of %lld floats", (long long)t->numel);
        return NULL;
    }
    *st = (wb_storage){data, bytes, 1};
    t->storage = st;
    t->data = data;
    return t;
}

wb_tensor *wb_ctx_tensor_view(wb_context *c, wb_tensor *x, int ndim, const int64_t *shape) {
    wb_tensor *y = wb_ctx_tensor_header(c, ndim, shape);
    if (!y) return NULL;
    y->data = x->data;
    y->storage = x->storage;
    wb_storage_retain(y);
    return y;
}

void wb_ctx_track_created(wb_context *c) {
    c->created = NULL;
    c->tracking = true;
}

void wb_ctx_stop_tracking(wb_context *c) {
    c->created = NULL;
    c->tracking = false;
}

void wb_ctx_release_created(wb_context *c, wb_tensor *const *keep, int n_keep) {
    for (wb_tensor *t = c->created; t; t = t->next_created) {
        bool kept = false;
        for (int i = 0; i < n_keep && !kept; i++) kept = keep[i] == t;
        if (!kept) wb_tensor_release(c->s, t);
    }
    c->created = NULL;
    c->tracking = false;
}

wb_tensor *wb_ctx_tensor_zeros(wb_context *c, int ndim, const int64_t *shape) {
    wb_tensor *t = wb_ctx_tensor_uninit(c, ndim, shape);
    if (t) c->s->backend->zero(t->data, (size_t)t->numel * sizeof(float));
    return t;
}

void *wb_ctx_scratch(wb_context *c, size_t bytes) {
    void *p = wb_arena_alloc(&c->s->compute, bytes);
    if (!p) wb_ctx_fail(c, WB_ERR_NOMEM, "out of memory for %zu bytes of scratch", bytes);
    return p;
}

void *wb_ctx_kernel_scratch(wb_context *c, size_t bytes) {
    void *p = wb_arena_alloc(c->s->kernel_scratch, bytes);
    if (!p) wb_ctx_fail(c, WB_ERR_NOMEM, "out of memory for %zu bytes of kernel scratch", bytes);
    return p;
}

bool wb_ctx_check_inputs_any_layout(wb_context *c, const char *op, wb_tensor *const *in, int n) {
    if (c->err != WB_OK) return false;
    for (int i = 0; i < n; i++) {
        if (!in[i]) {
            wb_ctx_fail(c, WB_ERR_INVALID, "%s: input %d is NULL", op, i);
            return false;
        }
    }
    if (c->s->n_maps) wb_host_maps_flush(c->s, in, n);
    return true;
}

bool wb_ctx_check_inputs(wb_context *c, const char *op, wb_tensor *const *in, int n) {
    return wb_ctx_check_inputs_any_layout(c, op, in, n) && wb_ctx_make_all_plain(c, in, n);
}

/* Into a new pool buffer that takes the old one's place where the tensor
 * owns its storage alone (a view of a blocked tensor cannot exist: making
 * one is an op, which made it plain first), copied back otherwise. */
bool wb_ctx_make_plain(wb_context *c, wb_tensor *t) {
    if (!t || !t->blocked) return true;
    wb_storage *st = t->storage;
    bool swap = st && st->refs == 1 && st->data == t->data;
    size_t bytes = swap ? st->bytes : (size_t)t->numel * sizeof(float);
    float *plain = wb_pool_alloc(&c->s->tensors, bytes);
    if (!plain) {
        wb_ctx_fail(c, WB_ERR_NOMEM, "out of memory for an NCHW copy of a tensor of %lld floats",
                    (long long)t->numel);
        return false;
    }
    c->s->backend->layout->to_plain(t->data, t->shape[0], t->shape[1], t->shape[2] * t->shape[3], plain);
    if (swap) {
        wb_pool_free(&c->s->tensors, st->data, st->bytes);
        st->data = t->data = plain;
    } else {
        c->s->backend->copy(t->data, plain, bytes);
        wb_pool_free(&c->s->tensors, plain, bytes);
    }
    t->blocked = false;
    return true;
}

bool wb_ctx_make_all_plain(wb_context *c, wb_tensor *const *in, int n) {
    for (int i = 0; i < n; i++)
        if (in[i] && !wb_ctx_make_plain(c, in[i])) return false;
    return true;
}

uint64_t wb_rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t wb_rng_seed_for(uint64_t seed, const char *path) {
    /* FNV-1a of the path mixed with the seed: a module's stream depends on its
     * name only, never on the order plugins were loaded or built. */
    uint64_t h = 1469598103934665603ull;
    for (const char *p = path; p && *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    uint64_t state = seed ^ h;
    wb_rng_next(&state);
    return state;
}

float wb_rng_uniform(uint64_t *state) {
    return (float)(wb_rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

float wb_rng_normal(uint64_t *state) {
    /* Box-Muller; u1 in (0, 1] so the log is finite. */
    float u1 = 1.0f - wb_rng_uniform(state);
    float u2 = wb_rng_uniform(state);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647692f * u2);
}
