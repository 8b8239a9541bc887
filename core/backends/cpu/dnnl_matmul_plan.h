/* A cached oneDNN matmul with its memory objects, for kernels that run one
 * matmul per call on buffers they give each time (the plain 1x1 convs'
 * passes). */
#ifndef WB_CORE_DNNL_MATMUL_PLAN_H
#define WB_CORE_DNNL_MATMUL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <oneapi/dnnl/dnnl.h>

typedef struct wb_dnnl_matmul_descs {
    dnnl_memory_desc_t src, weights, dst;
    bool adds; /* dst += the product (a sum post-op) */
} wb_dnnl_matmul_descs;

typedef struct wb_dnnl_matmul_plan wb_dnnl_matmul_plan;

/* The plan cached under (kind, key) (see wb_dnnl_cache_get), created from
 * d on first use. dnnl_unimplemented where oneDNN has no JIT kernel for it
 * (only its reference one, far slower): that answer is remembered too.
 * Call with wb_dnnl_lock held; the plan is valid while it is held. */
dnnl_status_t wb_dnnl_matmul_plan_get(const char *kind, const void *key, size_t key_size,
                                      const wb_dnnl_matmul_descs *d, wb_dnnl_matmul_plan **out);

/* dst's size in bytes. */
size_t wb_dnnl_matmul_plan_dst_bytes(const wb_dnnl_matmul_plan *p);

/* Runs the plan on these buffers, with a scratchpad from the scratch pool.
 * Call with wb_dnnl_lock held. */
dnnl_status_t wb_dnnl_matmul_plan_run(const wb_dnnl_matmul_plan *p, const void *src, const void *weights,
                                      void *dst);

#endif
