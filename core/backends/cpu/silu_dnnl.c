#include "silu_dnnl.h"

#include <stdlib.h>
#include "dnnl_common.h"

/* One primitive per (length, pass), cached: the same layers come back every
 * iteration. */
typedef struct silu_key {
    int64_t n;
    int64_t backward;
} silu_key;

typedef struct silu_plan {
    dnnl_primitive_t prim;
    dnnl_memory_t x, in, out; /* in: dy for the backward pass, unused forward */
} silu_plan;

static void plan_destroy(void *value) {
    silu_plan *p = value;
    dnnl_primitive_destroy(p->prim);
    dnnl_memory_destroy(p->x);
    dnnl_memory_destroy(p->in);
    dnnl_memory_destroy(p->out);
    free(p);
}

static dnnl_status_t plan_create(const silu_key *key, silu_plan **out) {
    silu_plan *p = calloc(1, sizeof *p);
    if (!p) return dnnl_out_of_memory;
    dnnl_engine_t engine = wb_dnnl_engine();
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {key->n};
    dnnl_eltwise_desc_t fwd, bwd;
    dnnl_primitive_desc_t fwd_pd = NULL, bwd_pd = NULL;
    dnnl_status_t st = engine ? dnnl_memory_desc_init_by_tag(&md, 1, dims, dnnl_f32, dnnl_a) : dnnl_runtime_error;
    /* alpha 1: swish is x * sigmoid(alpha * x) */
    if (st == dnnl_success)
        st = dnnl_eltwise_forward_desc_init(&fwd, key->backward ? dnnl_forward_training : dnnl_forward_inference,
                                            dnnl_eltwise_swish, &md, 1.0f, 0.0f);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(&fwd_pd, &fwd, NULL, engine, NULL);
    if (st == dnnl_success && key->backward) {
        st = dnnl_eltwise_backward_desc_init(&bwd, dnnl_eltwise_swish, &md, &md, 1.0f, 0.0f);
        if (st == dnnl_success) st = dnnl_primitive_desc_create(&bwd_pd, &bwd, NULL, engine, fwd_pd);
    }
    if (st == dnnl_success) st = wb_dnnl_primitive_create(&p->prim, key->backward ? bwd_pd : fwd_pd);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->x, &md);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->in, &md);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->out, &md);
    dnnl_primitive_desc_destroy(fwd_pd);
    dnnl_primitive_desc_destroy(bwd_pd);
    if (st != dnnl_success) {
        plan_destroy(p);
        return st;
    }
    *out = p;
    return dnnl_success;
}

static bool run(int64_t backward, const float *x, const float *dy, float *out, int64_t n) {
    silu_key key = {.n = n, .backward = backward};
    wb_dnnl_lock();
    silu_plan *p = wb_dnnl_cache_get("silu", &key, sizeof key);
    dnnl_status_t st = dnnl_success;
    if (!p) {
        st = plan_create(&key, &p);
        if (st == dnnl_success) p = wb_dnnl_cache_put("silu", &key, sizeof key, p, plan_destroy);
        if (!p) st = dnnl_out_of_memory;
    }
    if (st == dnnl_success) st = dnnl_memory_set_data_handle(p->x, (void *)x);
    if (st == dnnl_success) st = dnnl_memory_set_data_handle(p->out, out);
    if (st == dnnl_success && backward) {
        st = dnnl_memory_set_data_handle(p->in, (void *)dy);
        dnnl_exec_arg_t args[3] = {
            {DNNL_ARG_SRC, p->x}, {DNNL_ARG_DIFF_DST, p->in}, {DNNL_ARG_DIFF_SRC, p->out}};
        if (st == dnnl_success) st = wb_dnnl_execute(p->prim, 3, args);
    } else if (st == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, p->x}, {DNNL_ARG_DST, p->out}};
        st = wb_dnnl_execute(p->prim, 2, args);
    }
    wb_dnnl_unlock();
    return st == dnnl_success;
}

bool wb_silu_dnnl_forward(const float *x, float *y, int64_t n) { return run(0, x, NULL, y, n); }

bool wb_silu_dnnl_backward(const float *x, const float *dy, float *dx, int64_t n) { return run(1, x, dy, dx, n); }
