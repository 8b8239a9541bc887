/* One plugin module driven directly, the way the model runtime drives it
 * (create, output_specs, init_params, forward, backward on its own tape),
 * for parity tests of backbones and necks against PyTorch references. */
#ifndef WB_TEST_WBT_MODULE_H
#define WB_TEST_WBT_MODULE_H

#include <libconfig.h>
#include <stdbool.h>
#include "plugin/registry.h"
#include "runtime/context.h"

#define WBT_MAX_OUTPUTS 8

typedef struct wbt_module {
    const wb_module_desc *desc;
    void *inst;
    wb_context ctx;
    config_t cfg;
    wb_feature_spec out[WBT_MAX_OUTPUTS];
    int n_out;
} wbt_module;

/* Creates `type` at module path `path` from a params group given in full
 * (libconfig text, no schema defaults applied) and, when that succeeds,
 * declares its outputs and creates its parameters. Returns create's status;
 * the message is in m->ctx.msg. Free with wbt_module_free either way. */
wb_status wbt_module_create(wbt_module *m, wb_registry *reg, wb_session *s, wb_module_kind kind,
                            const char *type, const char *path, const char *params, const wb_feature_spec *in,
                            int n_in);
/* The same, asserting success. */
void wbt_module_build(wbt_module *m, wb_registry *reg, wb_session *s, wb_module_kind kind, const char *type,
                      const char *path, const char *params, const wb_feature_spec *in, int n_in);
/* Forward in training mode (train, recorded for backward) or inference; asserts success. */
void wbt_module_forward(wbt_module *m, wb_tensor *const *in, int n_in, wb_tensor **out, bool train);
/* The module's one-line describe(). */
const char *wbt_module_describe(wbt_module *m, char *buf, size_t size);
void wbt_module_free(wbt_module *m);

/* Loads a safetensors file into the session with the checkpoint loader and
 * asserts the counts of matched, missing and unexpected names (no shape
 * mismatch allowed). */
void wbt_load_weights(wb_session *s, const char *path, int matched, int missing, int unexpected);

/* max |a - b| relative to max |b| over n values, printed so that the test log
 * states the figures; asserts it is at most tol. Elementwise relative error
 * means nothing for values near zero, so the scale is the tensor's largest. */
void wbt_assert_rel_close(const char *what, const float *a, const float *b, int64_t n, double tol);

#endif
