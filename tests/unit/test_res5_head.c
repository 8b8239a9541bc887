/* roi_head's bbox_head = "res5" (res5_head.c on plugins/common/res_blocks,
 * then the box head's fc_cls / fc_reg; white box) against torchvision's
 * Bottleneck layer4 + average pooling + linear layers on the same RoI-pooled
 * features and weights (tests/parity/gen_res5_head.py): logits and deltas
 * at inference (BN folded into the convs) and in training (frozen BN), and
 * the gradients of the pooled features and of every weight, all to 1e-4. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "bbox_head.h"
#include "res5_head.h"
#include "wbtest.h"

#define TOL 1e-4

typedef struct res5_env {
    wbt_env e;
    res5_head r;
    ts_bbox_head box;
} res5_env;

/* The head as roi_head builds it for 64 pooled channels and 3 classes,
 * its weights from the case. */
static void build(res5_env *x, const wb_st_file *f) {
    wbt_env_init(&x->e, NULL, 1);
    int cin = (int)wbt_parity_attr(f, "cin"), width = (int)wbt_parity_attr(f, "width");
    x->r = (res5_head){.n_blocks = 3, .in_channels = cin, .width = width, .norm = {.frozen_bn = 1}};
    x->box = (ts_bbox_head){.in_features = 4 * width, .num_fcs = 0, .num_classes = (int)wbt_parity_attr(f, "classes")};
    ck_assert_int_eq(res5_params(x->e.ctx, &x->r), WB_OK);
    ck_assert_int_eq(ts_bbox_head_params(x->e.ctx, &x->box, "bbox_head"), WB_OK);
    int loaded = 0;
    for (int i = 0; i < f->count; i++) {
        const wb_st_tensor *t = &f->tensors[i];
        if (strncmp(t->name, "res5.", 5) != 0 && strncmp(t->name, "bbox_head.", 10) != 0) continue;
        char full[128];
        snprintf(full, sizeof full, "test.%s", t->name);
        wb_param_entry *p = wb_session_find(x->e.s, full);
        ck_assert_msg(p != NULL, "the head has no %s", full);
        ck_assert_int_eq(p->tensor->numel, t->numel);
        memcpy(p->tensor->data, t->data, (size_t)t->numel * sizeof(float));
        loaded++;
    }
    ck_assert_int_eq(loaded, 3 * 15 + 5 + 4); /* convs + BNs of 3 blocks, the downsample, 2 linear layers */
}

static void forward(res5_env *x, const wb_st_file *f, wb_tensor **pooled, wb_tensor **cls, wb_tensor **reg) {
    *pooled = wbt_parity_input(&x->e, f, "pooled", true);
    wb_tensor *feat = res5_forward(x->e.ctx, &x->r, *pooled);
    ck_assert_msg(ts_bbox_head_forward(x->e.ctx, &x->box, feat, cls, reg) == WB_OK, "%s", x->e.c.msg);
    wbt_assert_close("cls", (*cls)->data, wbt_parity_tensor(f, "cls", (*cls)->numel), (*cls)->numel, TOL, TOL);
    wbt_assert_close("reg", (*reg)->data, wbt_parity_tensor(f, "reg", (*reg)->numel), (*reg)->numel, TOL, TOL);
    printf("  %s: cls max |diff| %.3g, reg %.3g\n", x->e.c.grad_enabled ? "training" : "inference",
           wbt_max_abs_diff((*cls)->data, wbt_parity_tensor(f, "cls", (*cls)->numel), (*cls)->numel),
           wbt_max_abs_diff((*reg)->data, wbt_parity_tensor(f, "reg", (*reg)->numel), (*reg)->numel));
}

START_TEST(test_res5_inference_matches_torchvision_layer4) {
    wb_st_file f;
    if (!wbt_parity_open("res5_head", &f)) return;
    res5_env x;
    build(&x, &f);
    x.e.c.grad_enabled = false; /* inference: BN folded into the convs */
    wb_tensor *pooled, *cls, *reg;
    forward(&x, &f, &pooled, &cls, &reg);
    ck_assert_int_eq((int)cls->shape[1], 4);
    ck_assert_int_eq((int)reg->shape[1], 12);
    wbt_env_free(&x.e);
    wb_st_free(&f);
}
END_TEST

static void seed_grad(wbt_env *e, wb_tensor *y, const float *r) {
    float *dy = wb_grad_begin(&e->c, y);
    memcpy(dy, r, (size_t)y->numel * sizeof(float));
    wb_grad_end(&e->c, y, dy);
}

START_TEST(test_res5_gradients_match_torchvision_layer4) {
    wb_st_file f;
    if (!wbt_parity_open("res5_head", &f)) return;
    res5_env x;
    build(&x, &f);
    wb_tensor *pooled, *cls, *reg;
    forward(&x, &f, &pooled, &cls, &reg);
    seed_grad(&x.e, cls, wbt_parity_tensor(&f, "r_cls", cls->numel));
    seed_grad(&x.e, reg, wbt_parity_tensor(&f, "r_reg", reg->numel));
    ck_assert_int_eq(wb_tape_backward(&x.e.c), WB_OK);
    ck_assert(pooled->grad_valid);
    wbt_assert_close("grad:pooled", pooled->grad, wbt_parity_tensor(&f, "grad:pooled", pooled->numel), pooled->numel,
                     TOL, TOL);
    int checked = 0;
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *t = &f.tensors[i];
        if (strncmp(t->name, "grad:", 5) != 0 || strcmp(t->name, "grad:pooled") == 0) continue;
        char full[128];
        snprintf(full, sizeof full, "test.%s", t->name + 5);
        wb_param_entry *p = wb_session_find(x.e.s, full);
        ck_assert_msg(p && p->tensor->grad_valid, "no gradient for %s", full);
        double scale = 0;
        for (int64_t k = 0; k < t->numel; k++) scale = fmax(scale, fabs(t->data[k]));
        wbt_assert_close(t->name, p->tensor->grad, t->data, t->numel, TOL * scale, TOL);
        checked++;
    }
    printf("  gradients: pooled features and %d weights within 1e-4\n", checked);
    ck_assert_int_eq(checked, 3 * 3 + 1 + 4); /* convs of 3 blocks, the downsample conv, 2 linear layers */
    wbt_env_free(&x.e);
    wb_st_free(&f);
}
END_TEST

int main(void) {
    Suite *s = suite_create("res5_head");
    TCase *tc = tcase_create("res5_head");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_res5_inference_matches_torchvision_layer4);
    tcase_add_test(tc, test_res5_gradients_match_torchvision_layer4);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
