/* Finite-difference gradient checks of ops (and of whole modules through the
 * same tape). The loss is L = sum(out * R) with a fixed random R, so every
 * output element's gradient is exercised. */
#ifndef WB_TEST_OPCHECK_H
#define WB_TEST_OPCHECK_H

#include "wbtest.h"

/* Builds the op's output from the inputs on ctx (NULL + ctx error on failure). */
typedef wb_tensor *(*opcheck_fn)(wb_ctx *ctx, wb_tensor *const *inputs, void *user);

typedef struct opcheck_input {
    int ndim;
    int64_t shape[WB_MAX_DIMS];
    const float *values;  /* NULL: uniform in [lo, hi) */
    float lo, hi;
    bool grad;            /* check the gradient of this input */
} opcheck_input;

typedef struct opcheck_opts {
    double eps;           /* finite-difference step (default 1e-3) */
    double atol, rtol;    /* default 2e-3, 2e-2 */
    int max_points;       /* elements probed per input (default 64, all if fewer) */
    const wb_backend *backend; /* default: reference */
    uint64_t seed;
} opcheck_opts;

/* Fails the current Check test with the op name, the input, the element and
 * both values when an analytic gradient disagrees with central differences. */
void opcheck_gradients(const char *op, opcheck_fn fn, void *user, const opcheck_input *inputs,
                       int n_in, opcheck_opts opts);

#endif
