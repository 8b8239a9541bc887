/* gemm for amp = "bf16" on oneDNN's matmul primitive: A and B are converted
 * to bfloat16 by reorders (which also apply the transposes and row strides),
 * the product accumulates in fp32 and C is written in fp32 in place. Plans
 * are cached per shape; the bf16 copies and the scratchpad are per-call
 * scratch from the tensor pool, as for the convolutions. */
#include <stdbool.h>
#include <stdlib.h>
#include "amp_bf16.h"
#include "dense_cpu.h"
#include "dnnl_common.h"

typedef struct gemm_key {
    int64_t trans_a, trans_b, m, n, k, lda, ldb, ldc;
} gemm_key;

typedef struct gemm_plan {
    dnnl_primitive_t prim;
    wb_dnnl_reorder to_a, to_b;  /* fp32 user layouts -> the primitive's bf16 ones */
    dnnl_memory_t a, b, c;       /* the primitive's views */
    size_t a_bytes, b_bytes;
    dnnl_memory_t scratch;
    size_t scratch_bytes;
} gemm_plan;

static void plan_destroy(void *value) {
    gemm_plan *p = value;
    if (!p) return;
    wb_dnnl_reorder_destroy(&p->to_a);
    wb_dnnl_reorder_destroy(&p->to_b);
    if (p->a) dnnl_memory_destroy(p->a);
    if (p->b) dnnl_memory_destroy(p->b);
    if (p->c) dnnl_memory_destroy(p->c);
    if (p->scratch) dnnl_memory_destroy(p->scratch);
    if (p->prim) dnnl_primitive_destroy(p->prim);
    free(p);
}

/* A rows x cols fp32 matrix stored with row stride ld, or transposed. */
static dnnl_status_t user_desc(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, int64_t ld, bool trans) {
    dnnl_dims_t dims = {rows, cols};
    dnnl_dims_t strides = {trans ? 1 : ld, trans ? ld : 1};
    return dnnl_memory_desc_init_by_strides(md, 2, dims, dnnl_f32, strides);
}

static dnnl_status_t plan_create(const gemm_key *key, gemm_plan **out) {
    gemm_plan *p = calloc(1, sizeof *p);
    if (!p) return dnnl_out_of_memory;
    dnnl_memory_desc_t a_user, b_user, c_user, a_run, b_run;
    dnnl_dims_t a_dims = {key->m, key->k}, b_dims = {key->k, key->n};
    dnnl_dims_t c_strides = {key->ldc, 1}, c_dims = {key->m, key->n};
    dnnl_status_t st = user_desc(&a_user, key->m, key->k, key->lda, key->trans_a);
    if (st == dnnl_success) st = user_desc(&b_user, key->k, key->n, key->ldb, key->trans_b);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_strides(&c_user, 2, c_dims, dnnl_f32, c_strides);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&a_run, 2, a_dims, dnnl_bf16, dnnl_format_tag_any);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&b_run, 2, b_dims, dnnl_bf16, dnnl_format_tag_any);
    dnnl_matmul_desc_t md;
    dnnl_primitive_desc_t pd = NULL;
    if (st == dnnl_success) st = dnnl_matmul_desc_init(&md, &a_run, &b_run, NULL, &c_user);
    if (st == dnnl_success) st = wb_dnnl_pd_user_scratch(&pd, &md, false);
    if (st == dnnl_success) st = wb_dnnl_primitive_create(&p->prim, pd);
    const dnnl_memory_desc_t *a_md = NULL, *b_md = NULL;
    if (st == dnnl_success) {
        a_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
        b_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        if (!a_md || !b_md) st = dnnl_runtime_error;
    }
    if (st == dnnl_success) st = wb_dnnl_reorder_init(&p->to_a, &a_user, a_md);
    if (st == dnnl_success) st = wb_dnnl_reorder_init(&p->to_b, &b_user, b_md);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->a, a_md);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->b, b_md);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->c, &c_user);
    if (st == dnnl_success) st = wb_dnnl_scratchpad_of(pd, &p->scratch, &p->scratch_bytes);
    if (st == dnnl_success) {
        p->a_bytes = dnnl_memory_desc_get_size(a_md);
        p->b_bytes = dnnl_memory_desc_get_size(b_md);
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success) {
        plan_destroy(p);
        return st;
    }
    *out = p;
    return dnnl_success;
}

static dnnl_status_t plan_get(const gemm_key *key, gemm_plan **out) {
    *out = wb_dnnl_cache_get("gemm_bf16", key, sizeof *key);
    if (*out) return dnnl_success;
    gemm_plan *p = NULL;
    dnnl_status_t st = plan_create(key, &p);
    if (st != dnnl_success) return st;
    *out = wb_dnnl_cache_put("gemm_bf16", key, sizeof *key, p, plan_destroy);
    return *out ? dnnl_success : dnnl_out_of_memory;
}

static dnnl_status_t plan_run(const gemm_plan *p, const float *a, const float *b, float *c) {
    void *a16 = wb_dnnl_scratch_alloc(p->a_bytes), *b16 = wb_dnnl_scratch_alloc(p->b_bytes);
    dnnl_status_t st = a16 && b16 ? dnnl_success : dnnl_out_of_memory;
    if (st == dnnl_success) st = wb_dnnl_reorder_run(&p->to_a, a, a16);
    if (st == dnnl_success) st = wb_dnnl_reorder_run(&p->to_b, b, b16);
    if (st == dnnl_success)
        st = wb_dnnl_matmul_run(p->prim, p->a, a16, p->b, b16, p->c, c, p->scratch, p->scratch_bytes);
    wb_dnnl_scratch_free(b16, p->b_bytes);
    wb_dnnl_scratch_free(a16, p->a_bytes);
    return st;
}

void wb_cpu_gemm_bf16(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                      const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                      float *c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    if (alpha != 1.0f || beta != 0.0f || k == 0) {
        wb_cpu_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    gemm_key key = {trans_a != 0, trans_b != 0, m, n, k, lda, ldb, ldc};
    wb_dnnl_lock();
    gemm_plan *p = NULL;
    dnnl_status_t st = wb_dnnl_engine() ? plan_get(&key, &p) : dnnl_runtime_error;
    if (st == dnnl_success) st = plan_run(p, a, b, c);
    wb_dnnl_unlock();
    /* Like sgemm, this fails only on malformed arguments or no memory for
     * the bf16 copies: the fp32 product is still the right answer. */
    if (st != dnnl_success) wb_cpu_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
