/* The cspdarknet backbone and yolov5_pafpn neck against YOLOv5 7.0's own code
 * (the `yolov5` package; tests/parity/gen_yolov5.py): the parameter names and
 * shapes of yolov5n/s/m/l/x, the features Detect receives (p3, p4, p5) of
 * yolov5n and yolov5s in eval mode with randomised BN statistics on a
 * non-square and a square image, and a training-mode forward (batch
 * statistics) with the gradients and updated running statistics after one
 * backward. Weights are exported by tools/export_yolov5.py and loaded with the
 * checkpoint loader, which proves that every name maps.
 *
 * Without the yolov5 package (scripts/setup.sh installs it into a virtual
 * environment) the generator writes only yolov5_unavailable, and this program
 * says why and exits 77, which ctest reports as skipped.
 *
 * Tolerance: max |ours - ref| over the largest |ref| of the tensor is at most
 * 1e-4 (the references are float64; ours float32 through ~60 layers). */
#include <stdio.h>
#include <string.h>
#include "wbt_module.h"
#include "wbt_parity.h"
#include "wbtest.h"

#define REL_TOL 1e-4
#define SKIP_EXIT_CODE 77

static wb_registry *g_reg;

static const wb_feature_spec k_image = {"image", 3, 1};

/* YOLOv5's model scales: depth_multiple and width_multiple of yolov5<v>.yaml. */
typedef struct scale {
    char variant;
    double deepen, widen;
} scale;
static const scale k_scales[] = {{'n', 0.33, 0.25}, {'s', 0.33, 0.50}, {'m', 0.67, 0.75}, {'l', 1.0, 1.0},
                                 {'x', 1.33, 1.25}};

static const scale *scale_of(char variant) {
    for (size_t i = 0; i < sizeof k_scales / sizeof k_scales[0]; i++)
        if (k_scales[i].variant == variant) return &k_scales[i];
    ck_abort_msg("no YOLOv5 scale %c", variant);
    return NULL;
}

/* Backbone and neck of a YOLOv5 scale in session s. */
static void build_yolov5(wbt_module *bb, wbt_module *neck, wb_session *s, const scale *sc, const char *norm_eval) {
    char params[256];
    snprintf(params, sizeof params, "deepen_factor = %g; widen_factor = %g; out_indices = [2, 3, 4]; "
             "frozen_stages = -1; norm_eval = %s;", sc->deepen, sc->widen, norm_eval);
    wbt_module_build(bb, g_reg, s, WB_KIND_BACKBONE, "cspdarknet", "backbone", params, &k_image, 1);
    snprintf(params, sizeof params, "deepen_factor = %g; num_csp_blocks = 3; norm_eval = %s;", sc->deepen, norm_eval);
    wbt_module_build(neck, g_reg, s, WB_KIND_NECK, "yolov5_pafpn", "neck", params, bb->out, bb->n_out);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(neck->out[i].stride, 8 << i);
        ck_assert_int_eq(neck->out[i].channels, bb->out[i].channels);
    }
}

static int tensors_in(const char *path) {
    wb_st_file f;
    char err[512];
    ck_assert_msg(wb_st_read(path, &f, err, sizeof err) == WB_OK, "%s", err);
    int n = f.count;
    wb_st_free(&f);
    return n;
}

static void load_yolov5_weights(wb_session *s, const char *model) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s_weights.safetensors", WB_PARITY_DIR, model);
    wbt_load_weights(s, path, tensors_in(path), 0, 0);
}

static void assert_output(const wb_st_file *f, const char *name, wb_tensor *t) {
    const wb_st_tensor *ref = wb_st_find(f, name);
    ck_assert_msg(ref != NULL, "parity file has no %s", name);
    ck_assert_msg(ref->ndim == t->ndim, "%s: rank %d, YOLOv5 %d", name, t->ndim, ref->ndim);
    for (int d = 0; d < t->ndim; d++)
        ck_assert_msg(ref->shape[d] == t->shape[d], "%s: dim %d is %lld, YOLOv5 %lld", name, d,
                      (long long)t->shape[d], (long long)ref->shape[d]);
    wbt_assert_rel_close(name, wbt_plain(t), ref->data, t->numel, REL_TOL);
}

/* Every backbone and neck tensor of YOLOv5's yolov5<v>.yaml exists here with
 * its shape, and we have no other. */
static void check_shapes(char variant) {
    char case_name[32];
    snprintf(case_name, sizeof case_name, "yolov5_shapes_%c", variant);
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    wb_session *s = wb_session_create(NULL, 1);
    wbt_module bb, neck;
    build_yolov5(&bb, &neck, s, scale_of(variant), "false");
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *ref = &f.tensors[i];
        const char *name = ref->name + strlen("shape:");
        wb_param_entry *p = wb_session_find(s, name);
        ck_assert_msg(p != NULL, "yolov5%c: YOLOv5 has %s, we do not", variant, name);
        ck_assert_msg(p->tensor->ndim == ref->numel, "yolov5%c: %s has rank %d, YOLOv5 %lld", variant, name,
                      p->tensor->ndim, (long long)ref->numel);
        for (int d = 0; d < p->tensor->ndim; d++)
            ck_assert_msg(p->tensor->shape[d] == (int64_t)ref->data[d], "yolov5%c: %s dim %d is %lld, YOLOv5 %g",
                          variant, name, d, (long long)p->tensor->shape[d], (double)ref->data[d]);
    }
    ck_assert_msg(s->n_params == f.count, "yolov5%c: we have %d tensors, YOLOv5's backbone and neck %d", variant,
                  s->n_params, f.count);
    printf("yolov5%c: all %d backbone and neck tensors have YOLOv5's names (MMYOLO's) and shapes\n", variant,
           f.count);
    wbt_module_free(&neck);
    wbt_module_free(&bb);
    wb_session_destroy(s);
    wb_st_free(&f);
}

START_TEST(test_shapes_match_yolov5) {
    for (size_t i = 0; i < sizeof k_scales / sizeof k_scales[0]; i++) check_shapes(k_scales[i].variant);
}
END_TEST

/* Eval mode: BN on the (randomised) running statistics, folded into the convs. */
static void check_eval(char variant, const char *which) {
    char model[16], case_name[48];
    snprintf(model, sizeof model, "yolov5%c", variant);
    snprintf(case_name, sizeof case_name, "%s_%s", model, which);
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wbt_module bb, neck;
    build_yolov5(&bb, &neck, e.s, scale_of(variant), "false");
    load_yolov5_weights(e.s, model);
    wb_tensor *x = wbt_parity_input(&e, &f, "x", false), *feats[3], *out[3];
    wbt_module_forward(&bb, &x, 1, feats, false);
    wbt_module_forward(&neck, feats, 3, out, false);
    printf("%s, eval mode, x [%lld, 3, %lld, %lld], Detect's inputs vs YOLOv5:\n", model, (long long)x->shape[0],
           (long long)x->shape[2], (long long)x->shape[3]);
    for (int i = 0; i < 3; i++) assert_output(&f, neck.out[i].name, out[i]);
    wbt_module_free(&neck);
    wbt_module_free(&bb);
    wbt_env_free(&e);
    wb_st_free(&f);
}

START_TEST(test_yolov5n_eval_matches) {
    check_eval('n', "eval_rect");
    check_eval('n', "eval_square");
}
END_TEST

START_TEST(test_yolov5s_eval_matches) {
    check_eval('s', "eval_rect");
    check_eval('s', "eval_square");
}
END_TEST

/* Seeds the gradient of each output with the parity file's r3, r4, r5. */
static void seed_output_grads(wbt_module *m, const wb_st_file *f, wb_tensor **out) {
    for (int i = 0; i < m->n_out; i++) {
        char r_name[16];
        snprintf(r_name, sizeof r_name, "r%d", 3 + i);
        const float *r = wbt_parity_tensor(f, r_name, out[i]->numel);
        float *g = wb_grad_begin(&m->ctx, out[i]);
        memcpy(g, r, (size_t)out[i]->numel * sizeof(float));
        wb_grad_end(&m->ctx, out[i], g);
    }
}

/* Every "grad:<param>" and "stat:<buffer>" of the file against ours. */
static void assert_grads_and_stats(const wb_st_file *f, wb_session *s) {
    int n = 0;
    for (int i = 0; i < f->count; i++) {
        const wb_st_tensor *ref = &f->tensors[i];
        bool is_grad = strncmp(ref->name, "grad:", 5) == 0, is_stat = strncmp(ref->name, "stat:", 5) == 0;
        if (!is_grad && !is_stat) continue;
        wb_param_entry *p = wb_session_find(s, ref->name + 5);
        ck_assert_msg(p != NULL, "no parameter %s", ref->name + 5);
        ck_assert_int_eq(p->tensor->numel, ref->numel);
        if (is_grad) ck_assert_msg(p->tensor->grad_valid, "no gradient reached %s", p->name);
        wbt_assert_rel_close(ref->name, is_grad ? p->tensor->grad : p->tensor->data, ref->data, ref->numel, REL_TOL);
        n++;
    }
    ck_assert_int_ge(n, 10);
}

/* Training mode: batch statistics (and their momentum-0.03 update of the
 * running ones), then backward of sum(p_k * r_k) through neck and backbone. */
static void check_train(char variant) {
    char model[16], case_name[48];
    snprintf(model, sizeof model, "yolov5%c", variant);
    snprintf(case_name, sizeof case_name, "%s_train", model);
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wbt_module bb, neck;
    build_yolov5(&bb, &neck, e.s, scale_of(variant), "false");
    load_yolov5_weights(e.s, model);
    wb_tensor *x = wbt_parity_input(&e, &f, "x", false), *feats[3], *out[3];
    wbt_module_forward(&bb, &x, 1, feats, true);
    wbt_module_forward(&neck, feats, 3, out, true);
    printf("%s, training mode (batch statistics), x [2, 3, 128, 160], vs YOLOv5 and torch autograd:\n", model);
    for (int i = 0; i < 3; i++) assert_output(&f, neck.out[i].name, out[i]);
    seed_output_grads(&neck, &f, out);
    ck_assert_msg(wb_tape_backward(&neck.ctx) == WB_OK, "neck backward: %s", neck.ctx.msg);
    ck_assert_msg(wb_tape_backward(&bb.ctx) == WB_OK, "backbone backward: %s", bb.ctx.msg);
    assert_grads_and_stats(&f, e.s);
    wbt_module_free(&neck);
    wbt_module_free(&bb);
    wbt_env_free(&e);
    wb_st_free(&f);
}

START_TEST(test_yolov5n_train_matches) { check_train('n'); }
END_TEST

START_TEST(test_yolov5s_train_matches) { check_train('s'); }
END_TEST

int main(void) {
    char why[1024];
    if (wbt_parity_unavailable("yolov5_unavailable", why, sizeof why)) {
        printf("SKIPPED: YOLOv5 parity of cspdarknet + yolov5_pafpn not run: %s\n", why);
        return SKIP_EXIT_CODE;
    }
    static const char *const files[] = {WB_PLUGIN_BUILD_DIR "/wb_backbone_cspdarknet.so",
                           WB_PLUGIN_BUILD_DIR "/wb_neck_yolov5_pafpn.so"};
    g_reg = wbt_registry_load(files, (int)(sizeof files / sizeof files[0]));
    if (!g_reg) return 1;
    Suite *s = suite_create("yolov5_parity");
    TCase *tc = tcase_create("yolov5_parity");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_shapes_match_yolov5);
    tcase_add_test(tc, test_yolov5n_eval_matches);
    tcase_add_test(tc, test_yolov5s_eval_matches);
    tcase_add_test(tc, test_yolov5n_train_matches);
    tcase_add_test(tc, test_yolov5s_train_matches);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
