/* Whole-module parity: tiny_cnn + center_head with torch's weights give
 * torch's outputs, parameter gradients (through both replayed tapes, BN in
 * training mode) and updated BN running statistics. */
#include <libconfig.h>
#include <string.h>
#include "config/params.h"
#include "model/model.h"
#include "plugin/registry.h"
#include "train/checkpoint.h"
#include "wbtest.h"

START_TEST(test_tiny_cnn_center_head_match_torch) {
    wb_registry *reg = wb_registry_new();
    ck_assert(wb_registry_load_file(reg, WB_PLUGIN_BUILD_DIR "/wb_backbone_tiny_cnn.so", "test") == WB_OK);
    ck_assert(wb_registry_load_file(reg, WB_PLUGIN_BUILD_DIR "/wb_head_center_head.so", "test") == WB_OK);
    config_t cfg;
    config_init(&cfg);
    ck_assert(config_read_string(&cfg,
        "model = { backbone = { type = \"tiny_cnn\"; widths = [8, 16]; frozen_bn = false; };"
        " head = { type = \"center_head\"; num_classes = 3; feat_channels = 16; center_radius = 1.5;"
        " prior_prob = 0.01; score_thr = 0.05; nms_iou = 0.5; nms_pre = 100; max_per_img = 10; }; };") == CONFIG_TRUE);
    wb_session *s = wb_session_create(NULL, 0);
    s->find_module = wb_registry_find_module;
    s->find_user = reg;
    wb_model *m = NULL;
    char err[1024];
    ck_assert_msg(wb_model_build(s, wb_params_of(config_lookup(&cfg, "model")), &m, err, sizeof err) == WB_OK, "%s", err);

    char path[4096];
    snprintf(path, sizeof path, "%s/tiny_cnn_center_head.safetensors", WB_PARITY_DIR);
    wb_load_report rep;
    ck_assert_msg(wb_checkpoint_load(path, s, NULL, &rep, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(rep.missing, 0);
    ck_assert_int_eq(rep.shape_mismatched, 0);

    wb_st_file f;
    wbt_parity_open("tiny_cnn_center_head", &f);
    wb_context c;
    wb_context_init(&c, s, "data", false);
    int64_t shape[4] = {2, 3, 32, 48};
    wb_tensor *x = wbt_from(&(wbt_env){s, c, &c.pub}, 4, shape, wbt_parity_tensor(&f, "input", 2 * 3 * 32 * 48));
    ck_assert_msg(wb_model_forward(m, x, true, err, sizeof err) == WB_OK, "%s", err);
    wb_module_slot *head = wb_model_head(m);
    /* float32 convolutions and BN summed in different orders: 1e-4 relative. */
    const char *outs[2] = {"out_cls", "out_reg"}, *rs[2] = {"r_cls", "r_reg"};
    for (int k = 0; k < 2; k++) {
        wb_tensor *o = head->out[k];
        wbt_assert_close(outs[k], o->data, wbt_parity_tensor(&f, outs[k], o->numel), o->numel, 1e-4, 1e-4);
        float *g = wb_grad_begin(&head->ctx, o);
        memcpy(g, wbt_parity_tensor(&f, rs[k], o->numel), (size_t)o->numel * sizeof(float));
        wb_grad_end(&head->ctx, o, g);
    }
    for (int i = m->n_stages - 1; i >= 0; i--)
        ck_assert_msg(wb_slot_backward(&m->stage[i], err, sizeof err) == WB_OK, "%s", err);
    int checked = 0;
    for (int i = 0; i < s->n_params; i++) {
        wb_param_entry *p = &s->params[i];
        char name[512];
        snprintf(name, sizeof name, "%s.%s", p->is_buffer ? "updated" : "grad", p->name);
        const float *want = wbt_parity_tensor(&f, name, p->tensor->numel);
        const float *got = p->is_buffer ? p->tensor->data : p->tensor->grad;
        ck_assert_msg(p->is_buffer || p->tensor->grad_valid, "no gradient for %s", p->name);
        /* Gradients accumulate over ~3000 terms per weight: 1e-3 abs + 1e-3 rel. */
        wbt_assert_close(name, got, want, p->tensor->numel, 1e-3, 1e-3);
        checked++;
    }
    ck_assert_int_eq(checked, 4 * 5 + 8); /* 4 conv-BN blocks (weight, gamma, beta, 2 stats) + 8 head params */
    wb_st_free(&f);
    wb_model_destroy(m);
    wb_session_destroy(s);
    config_destroy(&cfg);
    wb_registry_free(reg);
}
END_TEST

int main(void) {
    Suite *s = suite_create("tiny_parity");
    TCase *tc = tcase_create("tiny_parity");
    tcase_add_test(tc, test_tiny_cnn_center_head_match_torch);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
