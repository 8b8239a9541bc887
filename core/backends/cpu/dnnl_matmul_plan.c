/* Cached matmul plans (dnnl_matmul_plan.h). */
#include <stdlib.h>
#include "dnnl_common.h"
#include "dnnl_matmul_plan.h"

struct wb_dnnl_matmul_plan {
    dnnl_primitive_t prim; /* NULL: declined, remembered so */
    dnnl_memory_t src, weights, dst, scratch;
    size_t dst_bytes, scratch_bytes;
};

static void plan_destroy(void *value) {
    wb_dnnl_matmul_plan *p = value;
    if (!p) return;
    dnnl_memory_t mems[4] = {p->src, p->weights, p->dst, p->scratch};
    for (int i = 0; i < 4; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    if (p->prim) dnnl_primitive_destroy(p->prim);
    free(p);
}

static dnnl_status_t plan_create(const wb_dnnl_matmul_descs *d, wb_dnnl_matmul_plan **out) {
    dnnl_primitive_desc_t pd = NULL;
    wb_dnnl_matmul_plan *p = calloc(1, sizeof *p);
    if (!p) return dnnl_out_of_memory;
    dnnl_matmul_desc_t md;
    dnnl_status_t st = wb_dnnl_engine() ? dnnl_success : dnnl_runtime_error;
    if (st == dnnl_success) st = dnnl_matmul_desc_init(&md, &d->src, &d->weights, NULL, &d->dst);
    if (st == dnnl_success) st = wb_dnnl_pd_user_scratch(&pd, &md, d->adds);
    if (st == dnnl_success && wb_dnnl_is_reference(pd)) st = dnnl_unimplemented;
    if (st == dnnl_success) st = wb_dnnl_primitive_create(&p->prim, pd);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->src, &d->src);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->weights, &d->weights);
    if (st == dnnl_success) st = wb_dnnl_memory(&p->dst, &d->dst);
    if (st == dnnl_success) st = wb_dnnl_scratchpad_of(pd, &p->scratch, &p->scratch_bytes);
    p->dst_bytes = dnnl_memory_desc_get_size(&d->dst);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success) {
        plan_destroy(p);
        return st;
    }
    *out = p;
    return dnnl_success;
}

dnnl_status_t wb_dnnl_matmul_plan_get(const char *kind, const void *key, size_t key_size,
                                      const wb_dnnl_matmul_descs *d, wb_dnnl_matmul_plan **out) {
    wb_dnnl_matmul_plan *p = wb_dnnl_cache_get(kind, key, key_size);
    if (!p) {
        dnnl_status_t st = plan_create(d, &p);
        if (st == dnnl_unimplemented) p = calloc(1, sizeof *p);
        else if (st != dnnl_success) return st;
        if (!p) return dnnl_out_of_memory;
        p = wb_dnnl_cache_put(kind, key, key_size, p, plan_destroy);
        if (!p) return dnnl_out_of_memory;
    }
    *out = p;
    return p->prim ? dnnl_success : dnnl_unimplemented;
}

size_t wb_dnnl_matmul_plan_dst_bytes(const wb_dnnl_matmul_plan *p) { return p->dst_bytes; }

dnnl_status_t wb_dnnl_matmul_plan_run(const wb_dnnl_matmul_plan *p, const void *src, const void *weights,
                                      void *dst) {
    return wb_dnnl_matmul_run(p->prim, p->src, src, p->weights, weights, p->dst, dst, p->scratch, p->scratch_bytes);
}
