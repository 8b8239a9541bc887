/* The basic loss plugins as modules: created from a config section through
 * the host's submodule_create, as retina_head creates loss_cls / loss_bbox,
 * and run through submodule_forward. Values and input gradients against
 * mmdetection's semantics computed with torch (tests/parity/
 * gen_loss_modules.py) for every reduction; the forms of an absent weight;
 * error messages for wrong inputs and configs.
 *
 * Tolerances against the float64 references: the loss ops themselves are
 * held to rtol 2e-6 / atol 1e-7 (values) and rtol 1e-5 / atol 2e-7
 * (gradients) in test_loss.c; a module adds at most two float32 roundings
 * (the loss_weight multiply and the weight's row mean), and loss_weight (up
 * to 3 here) scales the absolute errors. Hence values rtol 4e-6 / atol 4e-7,
 * gradients rtol 1e-5 / atol 6e-7. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <workbench/ops.h>
#include "app/experiment.h"
#include "config/config.h"
#include "wbtest.h"

#define VAL_ATOL 4e-7
#define VAL_RTOL 4e-6
#define GRAD_ATOL 6e-7
#define GRAD_RTOL 1e-5

static wb_registry *g_reg;

/* The config `loss = { <body> };`, validated against the plugin's schema
 * (defaults filled exactly as for `workbench run`). The caller checks the
 * error count. */
static wb_config *loss_config(const char *body) {
    char path[] = "/tmp/wb_lossmod_XXXXXX", text[1024];
    int n = snprintf(text, sizeof text, "loss = { %s };\n", body);
    int fd = mkstemp(path);
    ck_assert(fd >= 0 && n < (int)sizeof text);
    ck_assert(write(fd, text, (size_t)n) == n);
    close(fd);
    wb_config *cfg = wb_config_new();
    wb_module_lookup lk = wb_registry_module_lookup(g_reg);
    ck_assert(wb_config_load(cfg, path) == 0);
    unlink(path);
    wb_config_validate_module(cfg, "loss", WB_KIND_LOSS, &lk);
    return cfg;
}

/* An env whose session finds modules in the registry, as the model's does. */
static void env_init(wbt_env *e) {
    wbt_env_init(e, NULL, 1);
    e->s->find_module = wb_registry_find_module;
    e->s->find_user = g_reg;
}

/* The module of `body` as a head creates it: submodule_create on its ctx. */
static wb_submodule *create_loss(wbt_env *e, const char *body) {
    wb_config *cfg = loss_config(body);
    if (wb_config_error_count(cfg) > 0) wb_config_print_errors(cfg, stderr);
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    wb_submodule *m = WB_H(e->ctx)->submodule_create(e->ctx, wb_config_params(cfg, "loss"), "loss_cls", NULL, 0);
    ck_assert_msg(m != NULL, "create '%s': %s", body, e->c.msg);
    wb_config_free(cfg);
    return m;
}

static wb_tensor *forward(wbt_env *e, wb_submodule *m, wb_tensor *const *in, int n_in) {
    wb_tensor *out = NULL;
    if (WB_H(e->ctx)->submodule_forward(e->ctx, m, in, n_in, &out, 1) != WB_OK) return NULL;
    return out;
}

static const char *const CASES[] = {
    "focal", "focal_defaults", "focal_noalpha", "bce", "ce", "ce_noweight", "smooth_l1", "smooth_l1_defaults",
    "l1", "iou", "giou", "diou", "ciou",
};
#define N_CASES (int)(sizeof CASES / sizeof CASES[0])
static const char *const REDUCTIONS[] = {"none", "sum", "mean"};

/* One case, every reduction: value and d/d pred. Without a weight the
 * module is called with two inputs, or with three and a NULL weight. */
START_TEST(test_module_matches_torch) {
    char file[64], body[512], what[128], key[32];
    snprintf(file, sizeof file, "lossmod_%s", CASES[_i]);
    wb_st_file f;
    if (!wbt_parity_open(file, &f)) return;
    const char *config = wb_st_meta(&f, "config");
    bool has_weight = wbt_parity_attr(&f, "has_weight") != 0;
    float upstream = (float)wbt_parity_attr(&f, "upstream");
    wbt_env e;
    env_init(&e);
    double worst_val = 0, worst_grad = 0;
    for (int r = 0; r < 3; r++) {
        snprintf(body, sizeof body, "%s reduction = \"%s\";", config, REDUCTIONS[r]);
        wb_submodule *m = create_loss(&e, body);
        wb_tensor *in[3] = {wbt_parity_input(&e, &f, "pred", true), wbt_parity_input(&e, &f, "target", false),
                            has_weight ? wbt_parity_input(&e, &f, "weight", false) : NULL};
        int n_in = has_weight || r == 1 ? 3 : 2;
        wb_tensor *out = forward(&e, m, in, n_in);
        ck_assert_msg(out != NULL, "%s (%s): %s", CASES[_i], REDUCTIONS[r], e.c.msg);

        snprintf(key, sizeof key, "out_%s", REDUCTIONS[r]);
        snprintf(what, sizeof what, "%s %s value", CASES[_i], REDUCTIONS[r]);
        const float *want = wbt_parity_tensor(&f, key, out->numel);
        wbt_assert_close(what, out->data, want, out->numel, VAL_ATOL, VAL_RTOL);
        worst_val = fmax(worst_val, wbt_tol_ratio(out->data, want, out->numel, VAL_ATOL, VAL_RTOL, NULL));

        float *gy = wb_grad_begin(&e.c, out);
        if (r == 0) memcpy(gy, wbt_parity_tensor(&f, "gy_none", out->numel), (size_t)out->numel * sizeof(float));
        else gy[0] = upstream;
        wb_grad_end(&e.c, out, gy);
        ck_assert_msg(wb_tape_backward(&e.c) == WB_OK, "%s backward: %s", CASES[_i], e.c.msg);
        ck_assert(in[0]->grad_valid);
        snprintf(key, sizeof key, "gpred_%s", REDUCTIONS[r]);
        snprintf(what, sizeof what, "%s %s d/d pred", CASES[_i], REDUCTIONS[r]);
        want = wbt_parity_tensor(&f, key, in[0]->numel);
        wbt_assert_close(what, in[0]->grad, want, in[0]->numel, GRAD_ATOL, GRAD_RTOL);
        worst_grad = fmax(worst_grad, wbt_tol_ratio(in[0]->grad, want, in[0]->numel, GRAD_ATOL, GRAD_RTOL, NULL));
        wbt_env_reset(&e);
    }
    printf("  %-20s worst error / tolerance: values %.3f, gradients %.3f\n", CASES[_i], worst_val, worst_grad);
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

/* A weight tensor with no elements means "no weight", like a missing one. */
START_TEST(test_empty_weight_is_no_weight) {
    wb_st_file f;
    if (!wbt_parity_open("lossmod_diou", &f)) return;
    wbt_env e;
    env_init(&e);
    wb_submodule *m = create_loss(&e, "type = \"diou\"; loss_weight = 0.5; reduction = \"sum\";");
    int64_t none[1] = {0};
    wb_tensor *in[3] = {wbt_parity_input(&e, &f, "pred", false), wbt_parity_input(&e, &f, "target", false),
                        wb_tensor_new(e.ctx, 1, none)};
    wb_tensor *out = forward(&e, m, in, 3);
    ck_assert_msg(out != NULL, "%s", e.c.msg);
    wbt_assert_close("diou sum with an empty weight", out->data, wbt_parity_tensor(&f, "out_sum", 1), 1, VAL_ATOL,
                     VAL_RTOL);
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

static wb_tensor *zeros(wbt_env *e, int64_t rows, int64_t cols) {
    int64_t shape[2] = {rows, cols};
    return wb_tensor_new(e->ctx, cols > 0 ? 2 : 1, shape);
}

static void expect_forward_error(wbt_env *e, const char *body, wb_tensor *const *in, int n_in, const char *fragment) {
    wb_submodule *m = create_loss(e, body);
    wbt_expect_error(e, forward(e, m, in, n_in), fragment);
}

START_TEST(test_wrong_inputs_are_named) {
    wbt_env e;
    env_init(&e);
    wb_tensor *in[4] = {zeros(&e, 5, 3), zeros(&e, 5, 3), zeros(&e, 5, 3), zeros(&e, 5, 3)};
    expect_forward_error(&e, "type = \"focal_loss\";", in, 1,
                         "focal_loss: takes [pred, target] or [pred, target, weight] and gives one output, got 1 "
                         "inputs");
    in[0] = zeros(&e, 5, 3), in[1] = zeros(&e, 5, 3), in[2] = zeros(&e, 5, 3), in[3] = zeros(&e, 5, 3);
    expect_forward_error(&e, "type = \"smooth_l1\";", in, 4, "smooth_l1: takes [pred, target] or");

    in[0] = zeros(&e, 5, 3), in[1] = zeros(&e, 5, 4);
    expect_forward_error(&e, "type = \"focal_loss\";", in, 2,
                         "sigmoid_focal_loss: target has shape [5, 4] but logits has [5, 3]");
    in[0] = zeros(&e, 5, 3), in[1] = zeros(&e, 5, 3), in[2] = zeros(&e, 3, 5);
    expect_forward_error(&e, "type = \"cross_entropy\"; use_sigmoid = true;", in, 3,
                         "bce_with_logits: weight has shape [3, 5] but the elementwise loss has [5, 3]");
    /* Softmax cross entropy wants class indices, not one-hot rows. */
    in[0] = zeros(&e, 5, 3), in[1] = zeros(&e, 5, 3);
    expect_forward_error(&e, "type = \"cross_entropy\";", in, 2,
                         "softmax_cross_entropy: labels [5, 3] must be [5], one class index per row");
    in[0] = zeros(&e, 5, 3), in[1] = zeros(&e, 5, 0);
    in[1]->data[2] = 3.0f;
    expect_forward_error(&e, "type = \"cross_entropy\";", in, 2,
                         "label 3 of row 2 is not a class index in [0, 3) nor -1 (ignored)");

    in[0] = zeros(&e, 6, 4), in[1] = zeros(&e, 6, 4), in[2] = zeros(&e, 6, 3);
    expect_forward_error(&e, "type = \"giou\";", in, 3,
                         "giou: weight has shape [6, 3]; give one weight per box [N] or the box deltas' weight "
                         "[N, 4] (averaged per box), N being the 6 rows of pred");
    in[0] = zeros(&e, 6, 4), in[1] = zeros(&e, 6, 4), in[2] = zeros(&e, 5, 0);
    expect_forward_error(&e, "type = \"ciou\";", in, 3, "iou_loss: weight has shape [5] but the elementwise loss "
                         "has [6]");
    in[0] = zeros(&e, 6, 3), in[1] = zeros(&e, 6, 3);
    expect_forward_error(&e, "type = \"iou\";", in, 2, "iou_loss: pred [6, 3] must be [N, 4] boxes");

    /* The module declares one output; asking for two fails before it runs. */
    wb_submodule *m = create_loss(&e, "type = \"l1\";");
    wb_tensor *outs[2];
    in[0] = zeros(&e, 2, 2), in[1] = zeros(&e, 2, 2);
    ck_assert_int_ne(WB_H(e.ctx)->submodule_forward(e.ctx, m, in, 2, outs, 2), WB_OK);
    ck_assert_msg(strstr(e.c.msg, "asked for 2 outputs, the module declares 1"), "%s", e.c.msg);
    wbt_env_free(&e);
}
END_TEST

static void expect_config_error(const char *body, const char *fragment) {
    wb_config *cfg = loss_config(body);
    ck_assert_msg(wb_config_error_count(cfg) > 0, "'%s' was accepted", body);
    ck_assert_msg(strstr(wb_config_error(cfg, 0), fragment), "'%s': error '%s' lacks '%s'", body,
                  wb_config_error(cfg, 0), fragment);
    wb_config_free(cfg);
}

START_TEST(test_bad_configs_are_rejected) {
    expect_config_error("type = \"focal_loss\"; reduction = \"avg\";", "reduction");
    expect_config_error("type = \"focal_loss\"; gamma = -1.0;", "gamma");
    expect_config_error("type = \"smooth_l1\"; beta = -0.5;", "beta");
    expect_config_error("type = \"giou\"; loss_weight = -2.0;", "loss_weight");
    expect_config_error("type = \"l1\"; gamma = 2.0;", "gamma");
}
END_TEST

int main(void) {
    g_reg = wb_registry_new();
    if (wb_registry_load_file(g_reg, WB_PLUGIN_BUILD_DIR "/wb_loss_basic.so", "test") != WB_OK) {
        fprintf(stderr, "cannot load the basic losses: %s\n", wb_registry_error(g_reg));
        return 1;
    }
    Suite *s = suite_create("loss_modules");
    TCase *tc = tcase_create("loss_modules");
    tcase_add_loop_test(tc, test_module_matches_torch, 0, N_CASES);
    tcase_add_test(tc, test_empty_weight_is_no_weight);
    tcase_add_test(tc, test_wrong_inputs_are_named);
    tcase_add_test(tc, test_bad_configs_are_rejected);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
