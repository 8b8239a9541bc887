/* The core side of wb_ctx: one per module call site. Holds the module's
 * dotted path (for parameter names and messages), its tape, the sticky error
 * and the module's RNG stream. */
#ifndef WB_CORE_CONTEXT_H
#define WB_CORE_CONTEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include "../autograd/tape.h"
#include "session.h"

#define WB_PATH_MAX 160
#define WB_MSG_MAX 1024

struct wb_context {
    wb_ctx pub;               /* must stay first: plugins see &pub */
    wb_session *s;
    char path[WB_PATH_MAX];   /* "backbone", "head.loss_cls", ... */
    wb_tape tape;
    bool grad_enabled;
    wb_status err;
    char msg[WB_MSG_MAX];
    uint64_t rng;             /* per-module stream: seeded from (seed, path) */
    bool tracking;            /* tensors made now go on `created` */
    wb_tensor *created;
};

const wb_host_api *wb_host_api_table(void);

void wb_context_init(wb_context *c, wb_session *s, const char *path, bool grad_enabled);
static inline wb_context *wb_ctx_impl(wb_ctx *pub) { return (wb_context *)pub; }

/* Sets the sticky error (the first one wins) and returns status. */
wb_status wb_ctx_fail(wb_context *c, wb_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
wb_status wb_ctx_vfail(wb_context *c, wb_status status, const char *fmt, va_list ap);
void wb_ctx_clear_error(wb_context *c);

/* Compute tensors: the header in the compute arena, the data in the tensor
 * pool with one reference held by the caller (see tensor_refs.h).
 * _uninit leaves data unset. NULL + ctx error on OOM. */
wb_tensor *wb_ctx_tensor_uninit(wb_context *c, int ndim, const int64_t *shape);
wb_tensor *wb_ctx_tensor_zeros(wb_context *c, int ndim, const int64_t *shape);
/* A header without data: the caller points data at memory it manages. */
wb_tensor *wb_ctx_tensor_header(wb_context *c, int ndim, const int64_t *shape);
/* A view of x's data with another shape (same element count, checked by the caller). */
wb_tensor *wb_ctx_tensor_view(wb_context *c, wb_tensor *x, int ndim, const int64_t *shape);

/* Module-boundary lifetimes: between the two calls every tensor made on c is
 * listed; the second drops the owner's reference of all but `keep` (the
 * module's outputs), so intermediates no tape node holds are freed. */
void wb_ctx_track_created(wb_context *c);
void wb_ctx_release_created(wb_context *c, wb_tensor *const *keep, int n_keep);
/* Ends the list without releasing anything (they die with the iteration). */
void wb_ctx_stop_tracking(wb_context *c);
/* Host scratch memory in the compute arena (dies at the end of the iteration). */
void *wb_ctx_scratch(wb_context *c, size_t bytes);
/* The same in backend memory, for kernels' own buffers (statistics, argmax). */
void *wb_ctx_kernel_scratch(wb_context *c, size_t bytes);

/* Op front-end helper: fails with "<op>: input <i> is NULL" style messages
 * and returns false when the context already holds an error or any of the
 * required inputs is NULL. Ends the inputs' tensor_map mappings (uploads
 * what a plugin wrote) on a device backend. */
bool wb_ctx_check_inputs(wb_context *c, const char *op, wb_tensor *const *in, int n);
/* The same, leaving channel-blocked inputs (wb_tensor.blocked) as they are: for the ops that read
 * that layout where no backward follows them. */
bool wb_ctx_check_inputs_any_layout(wb_context *c, const char *op, wb_tensor *const *in, int n);
/* t's data made plain NCHW in place where it is blocked; false (with the error set) when out of memory. */
bool wb_ctx_make_plain(wb_context *c, wb_tensor *t);
/* Every blocked tensor of in[0..n) made plain (after an op found it cannot take them as they are). */
bool wb_ctx_make_all_plain(wb_context *c, wb_tensor *const *in, int n);

/* splitmix64 stream of the module. */
uint64_t wb_rng_next(uint64_t *state);
uint64_t wb_rng_seed_for(uint64_t seed, const char *path);
float wb_rng_uniform(uint64_t *state);
float wb_rng_normal(uint64_t *state);

#endif
