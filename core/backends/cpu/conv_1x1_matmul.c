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
#include "conv_1x1_matmul.h"
#include "dnnl_common.h"
#include "dnnl_matmul_plan.h"

#define NARROW 32

typedef struct mm1x1_key {
    int64_t pass; /* 0 forward, 1 backward-data */
    int64_t n, c_in, c_out, hw, adds;
} mm1x1_key;

/* src: w [1, rows, k] (w^T through strides for backward-data); weights: the
 * activations [n, k, hw]; dst: [n, rows, hw]. */
static dnnl_status_t descs_of(const mm1x1_key *k, wb_dnnl_matmul_descs *d) {
    bool forward = k->pass == 0;
    int64_t rows = forward ? k->c_out : k->c_in, inner = forward ? k->c_in : k->c_out;
    dnnl_dims_t w_dims = {1, rows, inner};
    dnnl_dims_t w_strides = {rows * inner, forward ? k->c_in : 1, forward ? 1 : k->c_in};
    dnnl_dims_t act_dims = {k->n, inner, k->hw}, out_dims = {k->n, rows, k->hw};
    d->adds = k->adds != 0;
    dnnl_status_t st = dnnl_memory_desc_init_by_strides(&d->src, 3, w_dims, dnnl_f32, w_strides);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&d->weights, 3, act_dims, dnnl_f32, dnnl_abc);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&d->dst, 3, out_dims, dnnl_f32, dnnl_abc);
    return st;
}

static dnnl_status_t run(const mm1x1_key *k, const float *w, const float *act, float *out) {
    if (k->n == 0 || k->hw == 0 || (k->c_in > NARROW && k->c_out > NARROW)) return dnnl_unimplemented;
    wb_dnnl_matmul_descs d;
    dnnl_status_t st = descs_of(k, &d);
    wb_dnnl_lock();
    wb_dnnl_matmul_plan *p = NULL;
    if (st == dnnl_success) st = wb_dnnl_matmul_plan_get("conv_1x1_matmul", k, sizeof *k, &d, &p);
    if (st == dnnl_success) st = wb_dnnl_matmul_plan_run(p, w, act, out);
    wb_dnnl_unlock();
    return st;
}

dnnl_status_t wb_cpu_conv_1x1_forward(const wb_conv_shape *s, const float *x, const float *w, const float *b,
                                      float *y) {
    /* oneDNN 2.6's matmul adds a bias per row (per output channel here) only in its reference kernel. */
    if (b) return dnnl_unimplemented;
    mm1x1_key k = {.pass = 0, .n = s->n, .c_in = s->c_in, .c_out = s->c_out, .hw = s->h_out * s->w_out};
    return run(&k, w, x, y);
}

dnnl_status_t wb_cpu_conv_1x1_backward_data(const wb_conv_shape *s, const float *dy, const float *w, float *dx,
                                            bool adds) {
    mm1x1_key k = {.pass = 1, .n = s->n, .c_in = s->c_in, .c_out = s->c_out, .hw = s->h_in * s->w_in,
                   .adds = adds};
    return run(&k, w, dy, dx);
}
