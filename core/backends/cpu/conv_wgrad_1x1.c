/* The weight gradient of a plain 1x1 conv (runs_plain in conv_dnnl.c) as
 * one batched oneDNN matmul: dw = sum over images n and pixel chunks k of
 * dy[n][:, k] x[n][:, k]^T, with x read in place through strides (no copy,
 * no reorder).
 *
 * Why not the convolution primitive: its gemm implementation runs this as
 * one long-K GEMM per image, slow where c_in and c_out are small and the
 * map is large: yolov5s at 640, batch 4, ran 64 -> 32 at 160x160 at 39
 * GFLOP/s and 32 -> 32 at 21, the 1x1 weight gradients 193 ms of a 1125 ms
 * iteration at 121 GFLOP/s on average. The matmul's brgemm kernels take
 * the (image, chunk) pairs as a batch, each a product with K = the chunk,
 * at 121-193 GFLOP/s on the same shapes. The batch's partial products are
 * then summed: a float sum in another order than the conv primitive's,
 * which differs by rounding alone (test_conv holds both to the kernels'
 * tolerance). */
#include "conv_wgrad_1x1.h"
#include "dnnl_common.h"
#include "dnnl_matmul_plan.h"

/* Pixels per chunk: chunks of 1024-8192 keep the brgemm kernel at its rate
 * and give the two threads several products to share; shorter ones would
 * multiply the partial products to sum. */
#define CHUNK_MIN 1024
#define CHUNK_MAX 8192

typedef struct wgrad_key {
    int64_t n, c_in, c_out, hw, chunk;
} wgrad_key;

int64_t wb_cpu_conv_wgrad_1x1_chunk(int64_t hw) {
    if (hw <= CHUNK_MAX) return hw;
    for (int64_t chunk = CHUNK_MAX; chunk >= CHUNK_MIN; chunk--)
        if (hw % chunk == 0) return chunk;
    return hw;
}

/* src: dy as [n, chunks, c_out, chunk]; weights: x as [n, chunks, chunk,
 * c_in] (the pixel index is x's contiguous one); dst: one c_out x c_in
 * partial product per (image, chunk). */
static dnnl_status_t descs_of(const wgrad_key *k, wb_dnnl_matmul_descs *d) {
    int64_t chunks = k->hw / k->chunk;
    dnnl_dims_t src_dims = {k->n, chunks, k->c_out, k->chunk}, src_strides = {k->c_out * k->hw, k->chunk, k->hw, 1};
    dnnl_dims_t wei_dims = {k->n, chunks, k->chunk, k->c_in}, wei_strides = {k->c_in * k->hw, k->chunk, 1, k->hw};
    dnnl_dims_t dst_dims = {k->n, chunks, k->c_out, k->c_in};
    d->adds = false;
    dnnl_status_t st = dnnl_memory_desc_init_by_strides(&d->src, 4, src_dims, dnnl_f32, src_strides);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_strides(&d->weights, 4, wei_dims, dnnl_f32, wei_strides);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&d->dst, 4, dst_dims, dnnl_f32, dnnl_abcd);
    return st;
}

/* dw = the sum of the parts (parts x size floats) in double, one output
 * element per lane. */
static void sum_parts(const float *partial, int64_t parts, int64_t size, float *dw) {
#pragma omp parallel for schedule(static) if (parts * size > 65536)
    for (int64_t i = 0; i < size; i++) {
        double s = 0.0;
        for (int64_t q = 0; q < parts; q++) s += (double)partial[q * size + i];
        dw[i] = (float)s;
    }
}

/* db[o] = the sum of dy over images and pixels. */
static void bias_grad(const wb_conv_shape *s, const float *dy, float *db) {
    int64_t hw = s->h_out * s->w_out;
#pragma omp parallel for schedule(static) if (s->n * s->c_out * hw > 65536)
    for (int64_t o = 0; o < s->c_out; o++) {
        double acc = 0.0;
        for (int64_t n = 0; n < s->n; n++) {
            const float *row = dy + (n * s->c_out + o) * hw;
#pragma omp simd reduction(+ : acc)
            for (int64_t p = 0; p < hw; p++) acc += (double)row[p];
        }
        db[o] = (float)acc;
    }
}

dnnl_status_t wb_cpu_conv_wgrad_1x1(const wb_conv_shape *s, const float *x, const float *dy, float *dw, float *db) {
    int64_t hw = s->h_out * s->w_out;
    if (s->n == 0 || hw == 0) return dnnl_unimplemented;
    wgrad_key k = {.n = s->n, .c_in = s->c_in, .c_out = s->c_out, .hw = hw, .chunk = wb_cpu_conv_wgrad_1x1_chunk(hw)};
    wb_dnnl_matmul_descs d;
    dnnl_status_t st = descs_of(&k, &d);
    wb_dnnl_lock();
    wb_dnnl_matmul_plan *p = NULL;
    if (st == dnnl_success) st = wb_dnnl_matmul_plan_get("conv_wgrad_1x1", &k, sizeof k, &d, &p);
    size_t partial_bytes = st == dnnl_success ? wb_dnnl_matmul_plan_dst_bytes(p) : 0;
    float *partial = st == dnnl_success ? wb_dnnl_scratch_alloc(partial_bytes) : NULL;
    if (st == dnnl_success && !partial) st = dnnl_out_of_memory;
    if (st == dnnl_success) st = wb_dnnl_matmul_plan_run(p, dy, x, partial);
    if (st == dnnl_success) sum_parts(partial, s->n * (hw / k.chunk), s->c_out * s->c_in, dw);
    if (partial) wb_dnnl_scratch_free(partial, partial_bytes);
    wb_dnnl_unlock();
    if (st == dnnl_success && db) bias_grad(s, dy, db);
    return st;
}
