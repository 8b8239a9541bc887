/* Host API entries for errors, logging, tensors and parameters (custom ops:
 * autograd/custom_op.c). */
#include "host_tensors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "context.h"
#include "host_copy.h"
#include "host_maps.h"
#include "init.h"
#include "log.h"
#include "tensor_refs.h"

wb_status wb_host_set_error(wb_ctx *ctx, wb_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wb_ctx_vfail(wb_ctx_impl(ctx), status, fmt, ap);
    va_end(ap);
    return status;
}

wb_status wb_host_status(wb_ctx *ctx) { return wb_ctx_impl(ctx)->err; }

void wb_host_log(wb_ctx *ctx, wb_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wb_vlogf(level, wb_ctx_impl(ctx)->path, fmt, ap);
    va_end(ap);
}

void wb_host_tensor_info(const wb_tensor *t, wb_tensor_info *info) { wb_tensor_fill_info(t, info); }

wb_tensor *wb_host_tensor_new(wb_ctx *ctx, int ndim, const int64_t *shape) {
    wb_context *c = wb_ctx_impl(ctx);
    if (c->err != WB_OK) return NULL;
    return wb_ctx_tensor_zeros(c, ndim, shape);
}

wb_tensor *wb_host_tensor_from_host(wb_ctx *ctx, int ndim, const int64_t *shape, const float *data) {
    wb_context *c = wb_ctx_impl(ctx);
    if (c->err != WB_OK) return NULL;
    if (!data) {
        wb_ctx_fail(c, WB_ERR_INVALID, "tensor_from_host: data is NULL");
        return NULL;
    }
    wb_tensor *t = wb_ctx_tensor_uninit(c, ndim, shape);
    if (t && t->numel > 0) c->s->backend->upload(t->data, data, (size_t)t->numel * sizeof(float));
    return t;
}

float *wb_host_tensor_map(wb_ctx *ctx, wb_tensor *t) {
    wb_context *c = wb_ctx_impl(ctx);
    if (c->err != WB_OK || !t || !wb_ctx_make_plain(c, t)) return NULL;
    if (wb_session_host_memory(c->s)) return t->data;
    float *host = wb_host_maps_map(c->s, t);
    if (!host) wb_ctx_fail(c, WB_ERR_NOMEM, "tensor_map: out of memory for a host copy of %lld floats",
                           (long long)t->numel);
    return host;
}

wb_status wb_host_tensor_unmap(wb_ctx *ctx, wb_tensor *t) {
    wb_context *c = wb_ctx_impl(ctx);
    if (t && !wb_session_host_memory(c->s)) wb_host_maps_unmap(c->s, t);
    return c->err;
}

float wb_host_tensor_item(wb_ctx *ctx, wb_tensor *t) {
    wb_context *c = wb_ctx_impl(ctx);
    if (c->err != WB_OK || !t) return 0.0f;
    if (t->numel != 1) {
        char shape[96];
        wb_ctx_fail(c, WB_ERR_INVALID, "tensor_item: tensor of shape %s is not a single value",
                    wb_shape_str(t, shape, sizeof shape));
        return 0.0f;
    }
    wb_host_maps_flush(c->s, &t, 1);
    if (!wb_ctx_make_plain(c, t)) return 0.0f;
    return wb_host_read_value(c->s->backend, t->data);
}

static wb_tensor *create_persistent(wb_context *c, const char *what, const char *name, int ndim,
                                    const int64_t *shape, const wb_init *init, bool trainable,
                                    bool is_buffer) {
    if (c->err != WB_OK) return NULL;
    if (!name || !*name || !init || ndim < 0 || ndim > WB_MAX_DIMS) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: needs a name, an initializer and a rank in 0..%d",
                    what, WB_MAX_DIMS);
        return NULL;
    }
    wb_session *s = c->s;
    char full[WB_PATH_MAX + WB_NAME_MAX * 2];
    snprintf(full, sizeof full, "%s%s%s", c->path, *c->path ? "." : "", name);
    if (wb_session_find(s, full)) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: '%s' is created twice", what, full);
        return NULL;
    }
    int64_t n = wb_shape_numel(ndim, shape);
    wb_tensor *t = wb_arena_calloc(&s->weights, sizeof *t);
    char *nm = strdup(full);
    float *host = malloc((size_t)(n ? n : 1) * sizeof(float));
    if (t) t->data = wb_arena_alloc(s->weight_data, (size_t)n * sizeof(float));
    if (s->n_params == s->cap_params) {
        int cap = s->cap_params ? 2 * s->cap_params : 64;
        wb_param_entry *grown = realloc(s->params, (size_t)cap * sizeof *grown);
        if (grown) {
            s->params = grown;
            s->cap_params = cap;
        }
    }
    if (!t || !t->data || !nm || !host || s->n_params == s->cap_params) {
        free(nm);
        free(host);
        wb_ctx_fail(c, WB_ERR_NOMEM, "%s: out of memory for '%s'", what, full);
        return NULL;
    }
    if (wb_init_fill(init, ndim, shape, &c->rng, host) != WB_OK) {
        free(nm);
        free(host);
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: initializer of '%s' needs at least 2 dimensions",
                    what, full);
        return NULL;
    }
    s->backend->upload(t->data, host, (size_t)n * sizeof(float));
    free(host);
    t->ndim = ndim;
    if (ndim > 0) memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = n;
    t->device = s->backend->device;
    t->persistent = true;
    t->trainable = trainable;
    t->requires_grad = trainable;
    t->name = nm;
    s->params[s->n_params++] = (wb_param_entry){nm, t, is_buffer};
    return t;
}

wb_tensor *wb_host_param_create(wb_ctx *ctx, const char *name, int ndim, const int64_t *shape,
                                const wb_init *init, int trainable) {
    return create_persistent(wb_ctx_impl(ctx), "param_create", name, ndim, shape, init,
                             trainable != 0, false);
}

wb_tensor *wb_host_buffer_create(wb_ctx *ctx, const char *name, int ndim, const int64_t *shape,
                                 const wb_init *init) {
    return create_persistent(wb_ctx_impl(ctx), "buffer_create", name, ndim, shape, init, false,
                             true);
}

float wb_host_rng_uniform(wb_ctx *ctx) { return wb_rng_uniform(&wb_ctx_impl(ctx)->rng); }

int wb_host_is_training(wb_ctx *ctx) { return wb_ctx_impl(ctx)->grad_enabled; }

void wb_host_tensor_release(wb_ctx *ctx, wb_tensor *t) {
    wb_context *c = wb_ctx_impl(ctx);
    if (t && t->maker == c) wb_tensor_release(c->s, t);
}
