/* The forward and backward-data of a plain 1x1 conv (runs_plain in
 * conv_dnnl.c) as one batched oneDNN matmul over the images, on NCHW as it
 * is: y_n = w x_n and dx_n = w^T dy_n, w shared by the whole batch (w^T
 * read through strides).
 *
 * Why not the convolution primitive: its gemm implementation runs one GEMM
 * per image whose output has c_out rows, slow where the channels are few
 * and the map large: yolov5s at 640, batch 4, ran 64 -> 32 at 160x160 at
 * 52 GFLOP/s forward and 63 backward, 32 -> 32 at 71, against ~200 on its
 * wider layers. The matmul took 0.46x the time on 64 -> 32 forward, 0.59x
 * backward and 0.83x on 32 -> 32, but the same or up to 1.45x on the wider
 * ones, so it runs where a side has at most NARROW channels. */
#include <stdlib.h>
#include "conv_1x1_matmul.h"
#include "dnnl_common.h"

#define NARROW 32

typedef struct mm1x1_key {
    int64_t pass; /* 0 forward, 1 backward-data */
    int64_t n, c_in, c_out, hw, with_bias, adds;
} mm1x1_key;

typedef struct mm1x1_plan {
    dnnl_primitive_t prim;
    dnnl_memory_t w, act, out, bias, scratch;
    size_t scratch_bytes;
} mm1x1_plan;

static void plan_destroy(void *value) {
    mm1x1_plan *p = value;
    if (!p) return;
    dnnl_memory_t mems[5] = {p->w, p->act, p->out, p->bias, p->scratch};
    for (int i = 0; i < 5; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    if (p->prim) dnnl_primitive_destroy(p->prim);
    free(p);
}

/* src: w [1, rows, k] (w^T through strides for backward-data); weights: the
 * activations [n, k, hw]; dst: [n, rows, hw]; bias [1, c_out, 1]. */
static dnnl_status_t plan_create(const mm1x1_key *k, mm1x1_plan **out) {
    bool forward = k->pass == 0;
    int64_t rows = forward ? k->c_out : k->c_in, inner = forward ? k->c_in : k->c_out;
    dnnl_dims_t w_dims = {1, rows, inner};
    dnnl_dims_t w_strides = {rows * inner, forward ? k->c_in : 1, forward ? 1 : k->c_in};
    dnnl_dims_t act_dims = {k->n, inner, k->hw}, out_dims = {k->n, rows, k->hw}, bias_dims = {1, k->c_out, 1};
    dnnl_memory_desc_t w, act, dst, bias;
    dnnl_primitive_desc_t pd = NULL;
    mm1x1_plan *p = calloc(1, sizeof *p);
    if (!p) return dnnl_out_of_memory;
    dnnl_status_t st = wb_dnnl_engine() ? dnnl_success : dnnl_runtime_error;
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_strides(&w, 3, w_dims, dnnl_f32, w_strides);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&act, 3, act_dims, dnnl_f32, dnnl_abc);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&dst, 3, out_dims, dnnl_f32, dnnl_abc);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&bias, 3, bias_dims, dnnl_f32, dnnl_abc);
    dnnl_matmul_desc_t md;
    if (st == dnnl_success) st = dnnl_matmul_desc_init(&md, &w, &act, k->with_bias ? &bias : NULL, &dst);
    if (st == dnnl_success) st = wb_dnnl_pd_user_scratch(&pd, &md, k->adds != 0);
    if (st == dnnl_success && wb_dnnl_is_reference(pd)) st = dnnl_unimplemented;
    if (st == dnnl_success) st = wb_dnnl_primitive_create(&p->prim, pd);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->w, &w);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->act, &act);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->out, &dst);
    if (st == dnnl_success && k->with_bias) st = wb_dnnl_memory(&p->bias, &bias);
    if (st == dnnl_success) st = wb_dnnl_scratchpad_of(pd, &p->scratch, &p->scratch_bytes);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success) {
        plan_destroy(p);
        return st;
    }
    *out = p;
    return dnnl_success;
}

/* The cached plan for k; a shape the matmul does not implement is
 * remembered as an empty plan. Call with wb_dnnl_lock held. */
static dnnl_status_t plan_get(const mm1x1_key *k, mm1x1_plan **out) {
    mm1x1_plan *p = wb_dnnl_cache_get("conv_1x1_matmul", k, sizeof *k);
    if (!p) {
        dnnl_status_t st = plan_create(k, &p);
        if (st == dnnl_unimplemented) p = calloc(1, sizeof *p);
        else if (st != dnnl_success) return st;
        if (!p) return dnnl_out_of_memory;
        p = wb_dnnl_cache_put("conv_1x1_matmul", k, sizeof *k, p, plan_destroy);
        if (!p) return dnnl_out_of_memory;
    }
    *out = p;
    return p->prim ? dnnl_success : dnnl_unimplemented;
}

static dnnl_status_t run(const mm1x1_key *k, const float *w, const float *act, const float *bias, float *out) {
    if (k->n == 0 || k->hw == 0 || (k->c_in > NARROW && k->c_out > NARROW)) return dnnl_unimplemented;
    wb_dnnl_lock();
    mm1x1_plan *p = NULL;
    dnnl_status_t st = plan_get(k, &p);
    if (st == dnnl_success && bias) st = dnnl_memory_set_data_handle(p->bias, (void *)bias);
    if (st == dnnl_success)
        st = wb_dnnl_matmul_run(p->prim, p->w, w, p->act, act, p->out, out, p->bias, p->scratch, p->scratch_bytes);
    wb_dnnl_unlock();
    return st;
}

dnnl_status_t wb_cpu_conv_1x1_forward(const wb_conv_shape *s, const float *x, const float *w, const float *b,
                                      float *y) {
    mm1x1_key k = {.pass = 0, .n = s->n, .c_in = s->c_in, .c_out = s->c_out, .hw = s->h_out * s->w_out,
                   .with_bias = b != NULL};
    return run(&k, w, x, b, y);
}

dnnl_status_t wb_cpu_conv_1x1_backward_data(const wb_conv_shape *s, const float *dy, const float *w, float *dx,
                                            bool adds) {
    mm1x1_key k = {.pass = 1, .n = s->n, .c_in = s->c_in, .c_out = s->c_out, .hw = s->h_in * s->w_in,
                   .adds = adds};
    return run(&k, w, dy, NULL, dx);
}
