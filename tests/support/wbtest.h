/* Helpers shared by the test programs: sessions and contexts, random data,
 * array comparison and torch parity files. */
#ifndef WB_TEST_WBTEST_H
#define WB_TEST_WBTEST_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "runtime/context.h"
#include "io/safetensors.h"

/* A session on the given backend (NULL = cpu) and a grad-enabled context. */
typedef struct wbt_env {
    wb_session *s;
    wb_context c;
    wb_ctx *ctx;
} wbt_env;

void wbt_env_init(wbt_env *e, const wb_backend *backend, uint64_t seed);
void wbt_env_free(wbt_env *e);
/* Ends the iteration: tape cleared, error cleared, compute arena reset. */
void wbt_env_reset(wbt_env *e);

/* A compute tensor with uniform values in [lo, hi) from a seeded stream. */
wb_tensor *wbt_random(wbt_env *e, int ndim, const int64_t *shape, float lo, float hi, uint64_t *rng);
wb_tensor *wbt_from(wbt_env *e, int ndim, const int64_t *shape, const float *data);

/* t's data in NCHW: made so in place where a conv with no backward after it
 * left it channel-blocked (backends/kernels_layout.h), as every op and
 * tensor_map do before reading it. */
float *wbt_plain(wb_tensor *t);

/* Largest |a-b| / (atol + rtol*|b|) over n values; <= 1 means within tolerance.
 * worst (optional) gets the index of the worst element. */
double wbt_tol_ratio(const float *a, const float *b, int64_t n, double atol, double rtol, int64_t *worst);
double wbt_max_abs_diff(const float *a, const float *b, int64_t n);

/* Asserts a and b agree within atol + rtol*|b|, naming what and the worst element. */
#define wbt_assert_close(what, a, b, n, atol, rtol)                                              \
    do {                                                                                          \
        int64_t w_ = 0;                                                                           \
        double r_ = wbt_tol_ratio((a), (b), (n), (atol), (rtol), &w_);                            \
        ck_assert_msg(r_ <= 1.0, "%s: element %lld is %.8g, expected %.8g (atol %g, rtol %g)",   \
                      (what), (long long)w_, (double)(a)[w_], (double)(b)[w_], (double)(atol),    \
                      (double)(rtol));                                                            \
    } while (0)

/* wbt_assert_close after printing the largest |a-b|, so a passing run's log
 * shows each comparison's margin. */
#define wbt_report_close(what, a, b, n, atol, rtol)                                                 \
    do {                                                                                          \
        fprintf(stderr, "  %-36s max |diff| %.3g\n", (what), wbt_max_abs_diff((a), (b), (n)));     \
        wbt_assert_close((what), (a), (b), (n), (atol), (rtol));                                  \
    } while (0)

/* Torch parity cases written by tests/parity/gen_*.py into WB_PARITY_DIR.
 * Skips (returns false, prints why) when the case is missing, so a missing
 * /usr/bin/python3 torch shows up loudly in the test log. */
bool wbt_parity_open(const char *case_name, wb_st_file *f);
const float *wbt_parity_tensor(const wb_st_file *f, const char *name, int64_t expect_numel);
/* True when a generator left the marker case `marker` (its reference code, such
 * as the yolov5 package, is absent); why gets the reason it recorded. */
bool wbt_parity_unavailable(const char *marker, char *why, size_t size);
/* Numeric attribute stored as metadata by the generator (e.g. "stride"). */
double wbt_parity_attr(const wb_st_file *f, const char *key);

/* A parity tensor as a compute tensor of the env (requires_grad as given). */
wb_tensor *wbt_parity_input(wbt_env *e, const wb_st_file *f, const char *name, bool requires_grad);
/* Asserts an op failed with WB_ERR_INVALID and a message containing fragment; resets e. */
void wbt_expect_error(wbt_env *e, const wb_tensor *y, const char *fragment);

/* The dataset vtable of plugin_dir/wb_dataset_NAME.so, opened directly (no
 * registry); asserts the file holds exactly that one dataset type. */
const wb_dataset_vtable *wbt_dataset_plugin(const char *plugin_dir, const char *name);

/* Runs a Check suite and returns the process exit code. */
int wbt_run_suite(Suite *s);

#endif
