/* oneDNN state shared by the CPU backend's kernels: one engine and stream, a
 * cache of per-shape objects (primitives with their memory objects) so that
 * steady-state iterations create nothing, counted primitive creation (tests
 * prove reuse with it), reorders between our plain layouts and the blocked
 * layouts primitives prefer, and per-call scratch for blocked copies.
 *
 * Threading: oneDNN here runs on OpenMP, so its kernels use the count set by
 * omp_set_num_threads (wb_dnnl_set_threads). Kernels that use the cache or
 * scratch hold wb_dnnl_lock() while they do: the cached memory objects and
 * the scratch pool are shared, so one kernel runs at a time. */
#ifndef WB_CORE_DNNL_COMMON_H
#define WB_CORE_DNNL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <oneapi/dnnl/dnnl.h>

/* NULL when oneDNN could not create a CPU engine or stream. */
dnnl_engine_t wb_dnnl_engine(void);
dnnl_stream_t wb_dnnl_stream(void);
void wb_dnnl_set_threads(int n);
const char *wb_dnnl_status_str(dnnl_status_t st);

void wb_dnnl_lock(void);
void wb_dnnl_unlock(void);

/* dnnl_primitive_create that counts; every primitive of the CPU backend is
 * created through it. */
dnnl_status_t wb_dnnl_primitive_create(dnnl_primitive_t *prim, const_dnnl_primitive_desc_t pd);
uint64_t wb_dnnl_primitives_created(void);

/* Runs prim on the shared stream and waits for it. */
dnnl_status_t wb_dnnl_execute(dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args);

/* A primitive descriptor for desc whose scratchpad the caller gives per
 * call (scratchpad mode "user"), adding its result into what dst holds
 * where adds (a sum post-op), and that scratchpad's memory object (no
 * buffer yet; NULL and 0 bytes where it needs none). */
dnnl_status_t wb_dnnl_pd_user_scratch(dnnl_primitive_desc_t *pd, const_dnnl_op_desc_t desc, bool adds);
dnnl_status_t wb_dnnl_scratchpad_of(const_dnnl_primitive_desc_t pd, dnnl_memory_t *mem, size_t *bytes);

/* Whether pd is one of oneDNN's reference implementations, far slower
 * than its JIT ones (a fallback the caller can decline). */
bool wb_dnnl_is_reference(const_dnnl_primitive_desc_t pd);

/* Runs a matmul primitive on these buffers (set on its memory objects) with
 * a scratchpad from the scratch pool where scratch is not NULL. Call with
 * wb_dnnl_lock held. */
dnnl_status_t wb_dnnl_matmul_run(dnnl_primitive_t prim, dnnl_memory_t src, const void *a, dnnl_memory_t weights,
                                 const void *b, dnnl_memory_t dst, void *c, dnnl_memory_t scratch,
                                 size_t scratch_bytes);

/* Cache of values keyed by (kind, key bytes); kind is a short literal such as
 * "conv", key a plain struct without padding holes (zero it first). put
 * takes ownership: destroy(value) runs when the cache is cleared (explicitly,
 * or by put when the cache is full), or at once when put fails (then NULL is
 * returned). A value is valid only while wb_dnnl_lock is held. */
typedef void (*wb_dnnl_destroy_fn)(void *value);
void *wb_dnnl_cache_get(const char *kind, const void *key, size_t key_size);
void *wb_dnnl_cache_put(const char *kind, const void *key, size_t key_size, void *value,
                        wb_dnnl_destroy_fn destroy);
void wb_dnnl_cache_clear(void);

/* A reorder between two layouts of the same logical tensor. When both
 * descriptors are equal there is nothing to do: prim stays NULL and run is a
 * no-op unless src != dst (then it fails: the caller must alias them). */
typedef struct wb_dnnl_reorder {
    dnnl_primitive_t prim;
    dnnl_memory_t from, to;
} wb_dnnl_reorder;

dnnl_status_t wb_dnnl_reorder_init(wb_dnnl_reorder *r, const dnnl_memory_desc_t *from,
                                   const dnnl_memory_desc_t *to);
/* A reorder that adds into what the destination holds (a sum post-op);
 * dnnl_unimplemented where the layouts are equal (no reorder to add in). */
dnnl_status_t wb_dnnl_reorder_init_adding(wb_dnnl_reorder *r, const dnnl_memory_desc_t *from,
                                          const dnnl_memory_desc_t *to);
dnnl_status_t wb_dnnl_reorder_run(const wb_dnnl_reorder *r, const void *src, void *dst);
void wb_dnnl_reorder_destroy(wb_dnnl_reorder *r);

/* A memory object with no buffer yet: callers set one per execution. */
dnnl_status_t wb_dnnl_memory(dnnl_memory_t *mem, const dnnl_memory_desc_t *md);

/* Short-lived scratch (blocked copies, scratchpads) for one kernel call,
 * taken from the attached pool: the session's tensor pool, so scratch reuses
 * memory that freed activations left instead of sitting beside them (the
 * backend's own pool when none is attached: kernel tests, bench/ops). Call
 * with wb_dnnl_lock held and give everything back before unlocking. */
struct wb_pool;
void wb_dnnl_scratch_attach(struct wb_pool *pool);
/* Stops using pool if it is the attached one. */
void wb_dnnl_scratch_detach(struct wb_pool *pool);
void *wb_dnnl_scratch_alloc(size_t bytes);
void wb_dnnl_scratch_free(void *ptr, size_t bytes);

#endif
