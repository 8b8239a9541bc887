#include "wbt_module.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "config/params.h"
#include "train/checkpoint.h"
#include "wbtest.h"

wb_status wbt_module_create(wbt_module *m, wb_registry *reg, wb_session *s, wb_module_kind kind,
                            const char *type, const char *path, const char *params, const wb_feature_spec *in,
                            int n_in) {
    char text[1024];
    memset(m, 0, sizeof *m);
    config_init(&m->cfg);
    m->desc = wb_registry_find_module(reg, kind, type);
    ck_assert_msg(m->desc != NULL, "no module %s", type);
    snprintf(text, sizeof text, "p = { %s };", params);
    ck_assert_msg(config_read_string(&m->cfg, text) == CONFIG_TRUE, "config: %s", config_error_text(&m->cfg));
    wb_context_init(&m->ctx, s, path, false);
    wb_status st = m->desc->module->create(&m->ctx.pub, wb_params_of(config_lookup(&m->cfg, "p")), in, n_in, &m->inst);
    if (st != WB_OK) return st;
    m->n_out = m->desc->module->output_specs(m->inst, m->out, WBT_MAX_OUTPUTS);
    ck_assert_msg(m->desc->module->init_params(m->inst, &m->ctx.pub) == WB_OK, "init_params: %s", m->ctx.msg);
    return WB_OK;
}

void wbt_module_build(wbt_module *m, wb_registry *reg, wb_session *s, wb_module_kind kind, const char *type,
                      const char *path, const char *params, const wb_feature_spec *in, int n_in) {
    ck_assert_msg(wbt_module_create(m, reg, s, kind, type, path, params, in, n_in) == WB_OK, "%s create: %s", type,
                  m->ctx.msg);
}

void wbt_module_forward(wbt_module *m, wb_tensor *const *in, int n_in, wb_tensor **out, bool train) {
    m->ctx.grad_enabled = train;
    wb_status st = m->desc->module->forward(m->inst, &m->ctx.pub, in, n_in, out, m->n_out);
    ck_assert_msg(st == WB_OK && m->ctx.err == WB_OK, "%s forward: %s", m->desc->type_name, m->ctx.msg);
    for (int i = 0; i < m->n_out; i++) wbt_plain(out[i]);
}

const char *wbt_module_describe(wbt_module *m, char *buf, size_t size) {
    ck_assert_msg(m->desc->module->describe != NULL, "%s has no describe()", m->desc->type_name);
    ck_assert_int_eq(m->desc->module->describe(m->inst, buf, size), WB_OK);
    return buf;
}

void wbt_module_free(wbt_module *m) {
    if (m->inst) m->desc->module->destroy(m->inst);
    m->inst = NULL;
    config_destroy(&m->cfg);
}

void wbt_load_weights(wb_session *s, const char *path, int matched, int missing, int unexpected) {
    char err[512];
    wb_load_report r;
    ck_assert_msg(wb_checkpoint_load(path, s, NULL, &r, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_msg(r.matched == matched && r.missing == missing && r.unexpected == unexpected &&
                      r.shape_mismatched == 0,
                  "%s: matched %d (want %d), missing %d (want %d, first %s), unexpected %d (want %d, first %s), "
                  "shape mismatches %d (first %s)", path, r.matched, matched, r.missing, missing, r.first_missing,
                  r.unexpected, unexpected, r.first_unexpected, r.shape_mismatched, r.first_mismatch);
}

void wbt_assert_rel_close(const char *what, const float *a, const float *b, int64_t n, double tol) {
    double max_diff = wbt_max_abs_diff(a, b, n), max_ref = 0;
    for (int64_t i = 0; i < n; i++) max_ref = fmax(max_ref, fabs(b[i]));
    double rel = max_diff / (max_ref > 0 ? max_ref : 1.0);
    printf("  %-52s max abs diff %.3g, max |ref| %.3g, relative %.3g\n", what, max_diff, max_ref, rel);
    ck_assert_msg(rel <= tol, "%s: max abs diff %.6g is %.3g of max |ref| %.6g (tolerance %g)", what, max_diff, rel,
                  max_ref, tol);
}
