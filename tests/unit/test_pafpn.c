/* The pafpn neck against a PyTorch reimplementation of mmdetection's PAFPN
 * (tests/parity/gen_pafpn.py), same weights under mmdetection's names:
 * outputs, and the gradients of sum(p_i * r_i) for every parameter and every
 * input, in all four extra-level modes and with start_level 1.
 *
 * Tolerance: references are float64, ours float32 through a few convs; max
 * |ours - ref| against the largest |ref| of the tensor <= 1e-5 (the issue's
 * bound). */
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "config/params.h"
#include "plugin/registry.h"
#include "train/checkpoint.h"
#include "wbtest.h"

#define REL_TOL 1e-5

static wb_registry *g_reg;

static bool load_plugins(void) {
    g_reg = wb_registry_new();
    if (wb_registry_load_file(g_reg, WB_PLUGIN_BUILD_DIR "/wb_neck_pafpn.so", "test") != WB_OK) {
        fprintf(stderr, "cannot load wb_neck_pafpn.so: %s\n", wb_registry_error(g_reg));
        return false;
    }
    return true;
}

typedef struct neck {
    const wb_module_desc *desc;
    void *inst;
    wb_context ctx;
    config_t cfg;
    wb_feature_spec out[8];
    int n_out;
} neck;

/* Creates a pafpn from a params group given in full; returns the create status. */
static wb_status neck_create(neck *m, wb_session *s, const char *params, const wb_feature_spec *in, int n_in) {
    char text[512];
    memset(m, 0, sizeof *m);
    m->desc = wb_registry_find_module(g_reg, WB_KIND_NECK, "pafpn");
    ck_assert(m->desc != NULL);
    snprintf(text, sizeof text, "p = { %s };", params);
    config_init(&m->cfg);
    ck_assert_msg(config_read_string(&m->cfg, text) == CONFIG_TRUE, "config: %s", config_error_text(&m->cfg));
    wb_context_init(&m->ctx, s, "neck", false);
    wb_status st = m->desc->module->create(&m->ctx.pub, wb_params_of(config_lookup(&m->cfg, "p")), in, n_in, &m->inst);
    if (st != WB_OK) return st;
    m->n_out = m->desc->module->output_specs(m->inst, m->out, 8);
    ck_assert_msg(m->desc->module->init_params(m->inst, &m->ctx.pub) == WB_OK, "init_params: %s", m->ctx.msg);
    return WB_OK;
}

static void neck_free(neck *m) {
    if (m->inst) m->desc->module->destroy(m->inst);
    config_destroy(&m->cfg);
}

static void assert_rel_close(const char *what, const float *a, const float *b, int64_t n) {
    double max_diff = wbt_max_abs_diff(a, b, n), max_ref = 0;
    for (int64_t i = 0; i < n; i++) max_ref = fmax(max_ref, fabs(b[i]));
    double rel = max_diff / (max_ref > 0 ? max_ref : 1.0);
    printf("  %-40s max abs diff %.3g, max |ref| %.3g, relative %.3g\n", what, max_diff, max_ref, rel);
    ck_assert_msg(rel <= REL_TOL, "%s: max abs diff %.6g is %.3g of max |ref| %.6g (tolerance %g)", what, max_diff,
                  rel, max_ref, REL_TOL);
}

static const wb_feature_spec k_levels[4] = {{"c2", 8, 4}, {"c3", 16, 8}, {"c4", 24, 16}, {"c5", 32, 32}};

/* Loads the case's weights (every parameter, no other), runs forward and
 * backward with the output gradients r<i>, compares all of it. */
static void check_case(const char *case_name, const char *params, int first_input, int expect_outs) {
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    neck m;
    int n_in = 4 - first_input;
    ck_assert_msg(neck_create(&m, e.s, params, k_levels + first_input, n_in) == WB_OK, "create: %s", m.ctx.msg);
    ck_assert_int_eq(m.n_out, expect_outs);
    ck_assert_int_eq(m.n_out, (int)wbt_parity_attr(&f, "num_outs"));

    char path[512], err[512];
    snprintf(path, sizeof path, "%s/%s_weights.safetensors", WB_PARITY_DIR, case_name);
    wb_load_report r;
    ck_assert_msg(wb_checkpoint_load(path, e.s, NULL, &r, err, sizeof err) == WB_OK, "%s", err);
    int want = (int)wbt_parity_attr(&f, "num_params");
    ck_assert_msg(r.matched == want && r.missing == 0 && r.unexpected == 0 && r.shape_mismatched == 0,
                  "%s: matched %d of %d, missing %d (first %s), unexpected %d (first %s), mismatched %d (first %s)",
                  case_name, r.matched, want, r.missing, r.first_missing, r.unexpected, r.first_unexpected,
                  r.shape_mismatched, r.first_mismatch);

    wb_tensor *in[4], *out[8];
    for (int i = 0; i < n_in; i++) in[i] = wbt_parity_input(&e, &f, k_levels[first_input + i].name, true);
    m.ctx.grad_enabled = true;
    ck_assert_msg(m.desc->module->forward(m.inst, &m.ctx.pub, in, n_in, out, m.n_out) == WB_OK, "forward: %s",
                  m.ctx.msg);
    printf("%s vs mmdetection's PAFPN (torch reimplementation):\n", case_name);
    for (int i = 0; i < m.n_out; i++) {
        const wb_st_tensor *ref = wb_st_find(&f, m.out[i].name);
        ck_assert_msg(ref != NULL, "parity file has no %s", m.out[i].name);
        for (int d = 0; d < 4; d++) ck_assert_int_eq(out[i]->shape[d], ref->shape[d]);
        assert_rel_close(m.out[i].name, out[i]->data, ref->data, ref->numel);
        char r_name[16];
        snprintf(r_name, sizeof r_name, "r%d", i);
        float *g = wb_grad_begin(&m.ctx, out[i]);
        memcpy(g, wbt_parity_tensor(&f, r_name, out[i]->numel), (size_t)out[i]->numel * sizeof(float));
        wb_grad_end(&m.ctx, out[i], g);
    }
    ck_assert_msg(wb_tape_backward(&m.ctx) == WB_OK, "backward: %s", m.ctx.msg);
    int n_grads = 0;
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *ref = &f.tensors[i];
        if (strncmp(ref->name, "grad:", 5) == 0) {
            wb_param_entry *p = wb_session_find(e.s, ref->name + 5);
            ck_assert_msg(p != NULL && p->tensor->grad_valid, "no gradient reached %s", ref->name + 5);
            assert_rel_close(ref->name, p->tensor->grad, ref->data, ref->numel);
            n_grads++;
        } else if (strncmp(ref->name, "grad_in:", 8) == 0) {
            for (int k = 0; k < n_in; k++) {
                if (strcmp(k_levels[first_input + k].name, ref->name + 8) != 0) continue;
                ck_assert_msg(in[k]->grad_valid, "no gradient reached input %s", ref->name + 8);
                assert_rel_close(ref->name, in[k]->grad, ref->data, ref->numel);
            }
        }
    }
    ck_assert_int_eq(n_grads, want);
    for (int k = 0; k < n_in; k++) { /* inputs below start_level are not read: no gradient */
        char key[512];
        snprintf(key, sizeof key, "grad_in:%s", k_levels[first_input + k].name);
        ck_assert_msg(in[k]->grad_valid == (wb_st_find(&f, key) != NULL), "input %s: gradient %s torch's",
                      k_levels[first_input + k].name, in[k]->grad_valid ? "where there is none in" : "missing from");
    }
    neck_free(&m);
    wbt_env_free(&e);
    wb_st_free(&f);
}

START_TEST(test_pafpn_maxpool_levels) {
    check_case("pafpn_none", "out_channels = 16; start_level = 0; num_outs = 5; add_extra_convs = \"none\"; "
               "relu_before_extra_convs = false;", 1, 5);
}
END_TEST

START_TEST(test_pafpn_on_input) {
    check_case("pafpn_on_input", "out_channels = 16; start_level = 0; num_outs = 5; add_extra_convs = \"on_input\"; "
               "relu_before_extra_convs = true;", 1, 5);
}
END_TEST

START_TEST(test_pafpn_on_lateral) {
    check_case("pafpn_on_lateral", "out_channels = 16; start_level = 0; num_outs = 5; "
               "add_extra_convs = \"on_lateral\"; relu_before_extra_convs = false;", 1, 5);
}
END_TEST

START_TEST(test_pafpn_on_output) {
    check_case("pafpn_on_output", "out_channels = 16; start_level = 0; num_outs = 6; "
               "add_extra_convs = \"on_output\"; relu_before_extra_convs = true;", 1, 6);
}
END_TEST

START_TEST(test_pafpn_start_level) {
    check_case("pafpn_start1", "out_channels = 16; start_level = 1; num_outs = 4; add_extra_convs = \"on_output\"; "
               "relu_before_extra_convs = false;", 0, 4);
}
END_TEST

/* Specs: p3..p7 at strides 8..128 from c3..c5; refusals say what is wrong. */
START_TEST(test_pafpn_specs_and_refusals) {
    wb_session *s = wb_session_create(NULL, 1);
    neck m;
    ck_assert(neck_create(&m, s, "out_channels = 8; start_level = 0; num_outs = 5; add_extra_convs = \"none\"; "
                          "relu_before_extra_convs = false;", k_levels + 1, 3) == WB_OK);
    for (int i = 0; i < 5; i++) {
        char want[8];
        snprintf(want, sizeof want, "p%d", i + 3);
        ck_assert_str_eq(m.out[i].name, want);
        ck_assert_int_eq(m.out[i].stride, 8 << i);
        ck_assert_int_eq(m.out[i].channels, 8);
    }
    neck_free(&m);
    ck_assert(neck_create(&m, s, "out_channels = 8; start_level = 0; num_outs = 2; add_extra_convs = \"none\"; "
                          "relu_before_extra_convs = false;", k_levels + 1, 3) == WB_ERR_INVALID);
    ck_assert_msg(strstr(m.ctx.msg, "num_outs 2 must be between the 3 used inputs") != NULL, "%s", m.ctx.msg);
    neck_free(&m);
    const wb_feature_spec skipping[2] = {{"c3", 16, 8}, {"c5", 32, 32}};
    ck_assert(neck_create(&m, s, "out_channels = 8; start_level = 0; num_outs = 2; add_extra_convs = \"none\"; "
                          "relu_before_extra_convs = false;", skipping, 2) == WB_ERR_INVALID);
    ck_assert_msg(strstr(m.ctx.msg, "input 'c5' has stride 32") != NULL, "%s", m.ctx.msg);
    neck_free(&m);
    wb_session_destroy(s);
}
END_TEST

int main(void) {
    if (!load_plugins()) return 1;
    Suite *s = suite_create("pafpn");
    TCase *tc = tcase_create("parity");
    tcase_add_test(tc, test_pafpn_maxpool_levels);
    tcase_add_test(tc, test_pafpn_on_input);
    tcase_add_test(tc, test_pafpn_on_lateral);
    tcase_add_test(tc, test_pafpn_on_output);
    tcase_add_test(tc, test_pafpn_start_level);
    tcase_add_test(tc, test_pafpn_specs_and_refusals);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
