/* Training engine: optimizers and parameter groups against torch.optim,
 * learning-rate schedules against the mmcv / YOLOv5 formulas written out
 * here, the EMA of weights against mmdet's ExpMomentumEMA formula, and the
 * checkpoint round trip of EMA and best-score state. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "runtime/host_tensors.h"
#include "runtime/tensor_refs.h"
#include "train/checkpoint.h"
#include "train/ema.h"
#include "train/optimizer.h"
#include "train/schedule.h"
#include "wbtest.h"

/* ---- optimizers vs torch (tests/parity/gen_train.py) ---- */

static const char *const k_names[] = {"backbone.conv.weight", "backbone.bn.weight", "backbone.bn.bias",
                                      "head.conv.weight",     "head.conv.bias",     "head.bn.weight",
                                      "head.cls.weight",      "neck.lateral.bias"};
enum { N_PARAMS = sizeof k_names / sizeof *k_names };
/* The groups gen_train.py derives by hand from mmcv's rules. */
static const float k_lr_mult[N_PARAMS] = {0.1f, 0.5f, 0.5f, 1.0f, 2.0f, 1.0f, 1.0f, 1.0f};
static const float k_decay[N_PARAMS] = {0.05f, 0.0f, 0.0f, 0.05f, 0.0f, 0.0f, 0.05f, 0.025f};

static wb_optim_config paramwise_config(wb_optim_type type) {
    wb_optim_config oc = {.type = type, .momentum = 0.9f, .weight_decay = 0.05f, .beta1 = 0.8f, .beta2 = 0.99f,
                          .eps = 1e-8f, .norm_decay_mult = 0.0f, .bias_decay_mult = 0.5f, .n_rules = 3};
    oc.rules[0] = (wb_param_rule){"backbone", 0.1f, 1.0f};
    oc.rules[1] = (wb_param_rule){"head.*.bias", 2.0f, 0.0f};
    oc.rules[2] = (wb_param_rule){"backbone.bn", 0.5f, 0.0f};
    return oc;
}

/* Parameters named and shaped as in the parity file, set to its init values. */
static void create_params(wb_session *s, const wb_st_file *f, wb_tensor **params) {
    wb_context c;
    wb_context_init(&c, s, "", true);
    wb_init zero = {.kind = WB_INIT_CONSTANT};
    for (int i = 0; i < N_PARAMS; i++) {
        char key[256];
        snprintf(key, sizeof key, "init.%s", k_names[i]);
        const wb_st_tensor *t = wb_st_find(f, key);
        ck_assert_msg(t, "parity file lacks %s", key);
        params[i] = wb_host_param_create(&c.pub, k_names[i], t->ndim, t->shape, &zero, 1);
        ck_assert_msg(params[i], "%s", c.msg);
        memcpy(params[i]->data, t->data, (size_t)t->numel * sizeof(float));
        /* the tests write gradients directly: the buffer a first backward would make */
        params[i]->grad = wb_grad_alloc(s, params[i]);
    }
}

static void set_grad(wb_tensor *p, const float *g, bool add) {
    for (int64_t j = 0; j < p->numel; j++) p->grad[j] = add ? p->grad[j] + g[j] : g[j];
    p->grad_valid = true;
}

static const float *grad_of(const wb_st_file *f, int step, const char *part, const char *name, int64_t numel) {
    char key[256];
    snprintf(key, sizeof key, "grad%d%s.%s", step, part, name);
    return wbt_parity_tensor(f, key, numel);
}

/* Runs the case's steps and compares every parameter with torch's (float64
 * from the same float32 inputs). Tolerance: atol 1e-6 + rtol 1e-5, a few
 * float32 roundings (6e-8 each) per element and step over 5 steps with
 * values of order 1 and lrs <= 0.2. */
static void check_optimizer_case(const char *case_name, wb_optim_type type, int accumulate) {
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    wb_session *s = wb_session_create(NULL, 0);
    wb_tensor *params[N_PARAMS];
    create_params(s, &f, params);
    wb_optim_config oc = paramwise_config(type);
    oc.nesterov = strstr(case_name, "nesterov") != NULL;
    wb_optimizer *opt = wb_optimizer_create(s, &oc);
    ck_assert_ptr_nonnull(opt);
    for (int i = 0; i < N_PARAMS; i++) {
        float lr_mult, decay;
        ck_assert(wb_optimizer_param_group(opt, k_names[i], &lr_mult, &decay));
        ck_assert_msg(lr_mult == k_lr_mult[i] && fabsf(decay - k_decay[i]) < 1e-9f,
                      "%s: lr_mult %g weight_decay %g, expected %g and %g", k_names[i], lr_mult, decay,
                      k_lr_mult[i], k_decay[i]);
    }
    int steps = (int)wbt_parity_attr(&f, "steps");
    const float *lrs = wbt_parity_tensor(&f, "lrs", steps);
    for (int k = 0; k < steps; k++) {
        for (int i = 0; i < N_PARAMS; i++) {
            int64_t n = params[i]->numel;
            if (accumulate == 1) {
                set_grad(params[i], grad_of(&f, k, "", k_names[i], n), false);
            } else {
                set_grad(params[i], grad_of(&f, k, "a", k_names[i], n), false);
                set_grad(params[i], grad_of(&f, k, "b", k_names[i], n), true);
            }
        }
        wb_optimizer_step_scaled(opt, lrs[k], 1.0f / (float)accumulate);
        wb_session_zero_grad(s);
    }
    for (int i = 0; i < N_PARAMS; i++) {
        char key[256], what[300];
        snprintf(key, sizeof key, "final.%s", k_names[i]);
        snprintf(what, sizeof what, "%s %s", case_name, k_names[i]);
        wbt_assert_close(what, params[i]->data, wbt_parity_tensor(&f, key, params[i]->numel), params[i]->numel,
                         1e-6, 1e-5);
    }
    wb_optimizer_destroy(opt);
    wb_session_destroy(s);
    wb_st_free(&f);
}

START_TEST(test_sgd_param_groups_match_torch) { check_optimizer_case("optim_sgd", WB_OPTIM_SGD, 1); }
END_TEST

START_TEST(test_sgd_nesterov_matches_torch) { check_optimizer_case("optim_sgd_nesterov", WB_OPTIM_SGD, 1); }
END_TEST

START_TEST(test_accumulated_gradients_match_torch_on_the_mean) {
    check_optimizer_case("optim_sgd_accum", WB_OPTIM_SGD, 2);
}
END_TEST

START_TEST(test_adamw_param_groups_match_torch) { check_optimizer_case("optim_adamw", WB_OPTIM_ADAMW, 1); }
END_TEST

/* ---- schedules vs the mmcv / YOLOv5 formulas ---- */

/* mmcv LrUpdaterHook.get_warmup_lr on top of the regular lr. */
static double warmup_factor(wb_warmup w, int64_t iter, int64_t warmup_iters, double ratio) {
    if (w == WB_WARMUP_NONE || iter >= warmup_iters) return 1.0;
    if (w == WB_WARMUP_CONSTANT) return ratio;
    if (w == WB_WARMUP_LINEAR) return 1.0 - (1.0 - (double)iter / warmup_iters) * (1.0 - ratio);
    return pow(ratio, 1.0 - (double)iter / warmup_iters);
}

typedef double (*regular_lr_fn)(const wb_schedule *s, double progress, double total);

static double step_lr(const wb_schedule *s, double e, double total) {
    (void)total;
    double lr = s->base_lr;
    for (int i = 0; i < s->n_milestones; i++)
        if (e >= s->milestones[i]) lr *= s->gamma;
    return lr;
}

/* mmcv annealing_cos(base, target, e / E). */
static double cosine_lr(const wb_schedule *s, double e, double total) {
    double target = s->min_lr_ratio >= 0 ? s->base_lr * s->min_lr_ratio : s->min_lr;
    return target + (s->base_lr - target) * (cos(M_PI * e / total) + 1.0) / 2.0;
}

static double poly_lr(const wb_schedule *s, double e, double total) {
    return (s->base_lr - s->min_lr) * pow(1.0 - e / total, s->power) + s->min_lr;
}

/* YOLOv5 train.py: lf = lambda x: ((1 - math.cos(x * math.pi / epochs)) / 2) * (lrf - 1) + 1 */
static double onecycle_lr(const wb_schedule *s, double e, double total) {
    return s->base_lr * (((1.0 - cos(e * M_PI / total)) / 2.0) * (s->lrf - 1.0) + 1.0);
}

/* Every iteration of the run; relative tolerance 1e-6: the C side returns float. */
static void check_schedule(wb_schedule s, regular_lr_fn regular) {
    for (int64_t it = 0; it < s.max_iters; it++) {
        double progress = s.by_epoch ? (double)(it / s.iters_per_epoch) : (double)it;
        double total = s.by_epoch ? (double)(s.max_iters / s.iters_per_epoch) : (double)s.max_iters;
        double want = regular(&s, progress, total) * warmup_factor(s.warmup, it, s.warmup_iters, s.warmup_ratio);
        double got = wb_schedule_lr(&s, it);
        ck_assert_msg(fabs(got - want) <= 1e-6 * fabs(want) + 1e-12, "policy %d warmup %d iteration %lld: lr %.9g, "
                      "expected %.9g", s.policy, s.warmup, (long long)it, got, want);
    }
}

START_TEST(test_step_with_linear_warmup_by_epoch) {
    wb_schedule s = {.base_lr = 0.02f, .policy = WB_LR_STEP, .by_epoch = 1, .max_iters = 120, .iters_per_epoch = 10,
                     .milestones = {8, 11}, .n_milestones = 2, .gamma = 0.1f, .warmup = WB_WARMUP_LINEAR,
                     .warmup_iters = 25, .warmup_ratio = 0.001f, .min_lr_ratio = -1.0f};
    check_schedule(s, step_lr);
    /* Spot values by hand: first iteration base * ratio; epoch 8 and 11 milestones. */
    ck_assert_float_eq_tol(wb_schedule_lr(&s, 0), 0.02f * 0.001f, 1e-9f);
    ck_assert_float_eq_tol(wb_schedule_lr(&s, 80), 0.002f, 1e-9f);
    ck_assert_float_eq_tol(wb_schedule_lr(&s, 110), 0.0002f, 1e-10f);
}
END_TEST

START_TEST(test_step_by_iteration_with_exp_and_constant_warmup) {
    wb_schedule s = {.base_lr = 0.1f, .policy = WB_LR_STEP, .by_epoch = 0, .max_iters = 300, .iters_per_epoch = 7,
                     .milestones = {100, 250}, .n_milestones = 2, .gamma = 0.5f, .warmup = WB_WARMUP_EXP,
                     .warmup_iters = 40, .warmup_ratio = 0.01f, .min_lr_ratio = -1.0f};
    check_schedule(s, step_lr);
    s.warmup = WB_WARMUP_CONSTANT;
    check_schedule(s, step_lr);
}
END_TEST

START_TEST(test_cosine_with_min_lr_and_min_lr_ratio) {
    wb_schedule s = {.base_lr = 0.01f, .policy = WB_LR_COSINE, .by_epoch = 1, .max_iters = 240, .iters_per_epoch = 20,
                     .min_lr = 1e-4f, .min_lr_ratio = -1.0f, .warmup = WB_WARMUP_LINEAR, .warmup_iters = 30,
                     .warmup_ratio = 0.1f};
    check_schedule(s, cosine_lr);
    s.min_lr_ratio = 0.05f;
    s.by_epoch = 0;
    check_schedule(s, cosine_lr);
    /* Halfway through, the lr is the mean of base and target. */
    ck_assert_float_eq_tol(wb_schedule_lr(&s, 120), (0.01f + 0.0005f) / 2, 1e-9f);
}
END_TEST

START_TEST(test_poly_by_iteration) {
    wb_schedule s = {.base_lr = 0.01f, .policy = WB_LR_POLY, .by_epoch = 0, .max_iters = 200, .iters_per_epoch = 10,
                     .min_lr = 1e-4f, .min_lr_ratio = -1.0f, .power = 0.9f};
    check_schedule(s, poly_lr);
}
END_TEST

START_TEST(test_yolo_onecycle_by_epoch) {
    wb_schedule s = {.base_lr = 0.01f, .policy = WB_LR_ONECYCLE, .by_epoch = 1, .max_iters = 300,
                     .iters_per_epoch = 10, .lrf = 0.01f, .min_lr_ratio = -1.0f, .warmup = WB_WARMUP_LINEAR,
                     .warmup_iters = 15, .warmup_ratio = 0.1f};
    check_schedule(s, onecycle_lr);
    /* Last epoch (29 of 30): close to base * lrf. */
    ck_assert_float_eq_tol(wb_schedule_lr(&s, 295), 0.01f * (((1 - cos(29 * M_PI / 30)) / 2) * (0.01 - 1) + 1), 1e-9f);
}
END_TEST

/* ---- EMA ---- */

START_TEST(test_ema_follows_mmdet_exp_momentum_formula) {
    wb_session *s = wb_session_create(NULL, 0);
    wb_context c;
    wb_context_init(&c, s, "m", true);
    wb_init zero = {.kind = WB_INIT_CONSTANT};
    int64_t shape[1] = {3};
    wb_tensor *w = wb_host_param_create(&c.pub, "w", 1, shape, &zero, 1);
    wb_tensor *buf = wb_host_buffer_create(&c.pub, "running_mean", 1, shape, &zero);
    ck_assert(w && buf);
    const float momentum = 0.01f, gamma = 5.0f;
    wb_ema *e = wb_ema_create(s, &(wb_ema_config){WB_EMA_MMDET, momentum, gamma, false});
    double expect[3] = {0};
    for (int k = 0; k < 6; k++) {
        for (int j = 0; j < 3; j++) {
            w->data[j] = (float)(k * 1.5 - j);
            buf->data[j] = (float)(10 * k + j);
        }
        wb_ema_update(e);
        /* mmdet ExpMomentumEMA.avg_func; the first update copies. */
        double m = (1.0 - momentum) * exp(-(1.0 + k) / gamma) + momentum;
        for (int j = 0; j < 3; j++) expect[j] = k == 0 ? w->data[j] : (1.0 - m) * expect[j] + m * w->data[j];
    }
    const float *avg = wb_ema_average(e, "m.w"), *avg_buf = wb_ema_average(e, "m.running_mean");
    float want[3] = {(float)expect[0], (float)expect[1], (float)expect[2]};
    /* 6 updates in float32 of values <= 8: 1e-5 relative. */
    wbt_assert_close("ema of m.w", avg, want, 3, 1e-6, 1e-5);
    ck_assert_msg(memcmp(avg_buf, buf->data, sizeof(float) * 3) == 0, "buffers are copied, not averaged");
    /* Swapping twice gives the training weights back; once shows the averages. */
    float before[3];
    memcpy(before, w->data, sizeof before);
    wb_ema_swap(e);
    wbt_assert_close("swapped in", w->data, want, 3, 1e-6, 1e-5);
    wb_ema_swap(e);
    ck_assert_msg(memcmp(w->data, before, sizeof before) == 0, "swapping twice restores the weights");
    wb_ema_destroy(e);
    wb_session_destroy(s);
}
END_TEST

/* ---- checkpoints: EMA and best score survive a round trip; load_from reports ---- */

START_TEST(test_checkpoint_round_trip_with_ema_and_best) {
    char path[4096];
    snprintf(path, sizeof path, "%s/test_train_ckpt_%d.safetensors", WB_BINARY_DIR, (int)getpid());
    wb_session *s = wb_session_create(NULL, 0);
    wb_context c;
    wb_context_init(&c, s, "net", true);
    wb_init one = {.kind = WB_INIT_CONSTANT, .value = 1.0f};
    int64_t shape[2] = {2, 2};
    wb_tensor *w = wb_host_param_create(&c.pub, "conv.weight", 2, shape, &one, 1);
    wb_optim_config oc = {.type = WB_OPTIM_SGD, .momentum = 0.9f};
    wb_optimizer *opt = wb_optimizer_create(s, &oc);
    wb_ema *e = wb_ema_create(s, &(wb_ema_config){WB_EMA_MMDET, 0.5f, 1.0f, false});
    w->grad = wb_grad_alloc(s, w);
    for (int j = 0; j < 4; j++) w->grad[j] = 0.5f * (float)j;
    w->grad_valid = true;
    wb_optimizer_step(opt, 0.1f);
    wb_ema_update(e);
    wb_ema_update(e);
    wb_train_state st = {.iteration = 7, .epoch = 1, .in_epoch = 0, .world = 1, .has_best = 1,
                         .best_score = 0.123456789012345, .best_name = "best_bbox_mAP_epoch_1.safetensors"};
    char err[1024];
    ck_assert_msg(wb_checkpoint_save(path, s, opt, e, &st, NULL, err, sizeof err) == WB_OK, "%s", err);
    float saved_avg[4];
    memcpy(saved_avg, wb_ema_average(e, "net.conv.weight"), sizeof saved_avg);

    /* A second identical session resumes everything. */
    wb_session *s2 = wb_session_create(NULL, 0);
    wb_context c2;
    wb_context_init(&c2, s2, "net", true);
    wb_host_param_create(&c2.pub, "conv.weight", 2, shape, &one, 1);
    wb_optimizer *opt2 = wb_optimizer_create(s2, &oc);
    wb_ema *e2 = wb_ema_create(s2, &(wb_ema_config){WB_EMA_MMDET, 0.5f, 1.0f, false});
    wb_train_state st2 = {0};
    wb_load_report rep;
    ck_assert_msg(wb_checkpoint_load(path, s2, &(wb_load_opts){opt2, NULL, &st2, false}, &rep, err, sizeof err) == WB_OK,
                  "%s", err);
    wb_st_file f;
    ck_assert(wb_st_read(path, &f, err, sizeof err) == WB_OK);
    ck_assert_msg(wb_ema_load(e2, &f, err, sizeof err), "%s", err);
    wb_st_free(&f);
    ck_assert_int_eq(st2.iteration, 7);
    ck_assert_int_eq(st2.has_best, 1);
    ck_assert(st2.best_score == st.best_score);
    ck_assert_str_eq(st2.best_name, st.best_name);
    ck_assert_int_eq(rep.unexpected, 0); /* "::" state and "ema." averages are not model weights */
    ck_assert_msg(memcmp(wb_ema_average(e2, "net.conv.weight"), saved_avg, sizeof saved_avg) == 0, "ema restored");

    /* load_from into a model with other names: counts and the first few names. */
    wb_session *s3 = wb_session_create(NULL, 0);
    wb_context c3;
    wb_context_init(&c3, s3, "other", true);
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "p%d", i);
        wb_host_param_create(&c3.pub, name, 2, shape, &one, 1);
    }
    ck_assert_msg(wb_checkpoint_load(path, s3, NULL, &rep, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(rep.matched, 0);
    ck_assert_int_eq(rep.missing, 5);
    ck_assert_int_eq(rep.unexpected, 1);
    ck_assert_str_eq(rep.first_missing, "other.p0 [2, 2], other.p1 [2, 2], other.p2 [2, 2], other.p3 [2, 2], "
                                        "other.p4 [2, 2]");
    ck_assert_str_eq(rep.first_unexpected, "net.conv.weight [2, 2]");
    unlink(path);
    wb_ema_destroy(e);
    wb_ema_destroy(e2);
    wb_optimizer_destroy(opt);
    wb_optimizer_destroy(opt2);
    wb_session_destroy(s);
    wb_session_destroy(s2);
    wb_session_destroy(s3);
}
END_TEST

int main(void) {
    Suite *s = suite_create("train");
    TCase *t = tcase_create("optimizers");
    tcase_add_test(t, test_sgd_param_groups_match_torch);
    tcase_add_test(t, test_sgd_nesterov_matches_torch);
    tcase_add_test(t, test_accumulated_gradients_match_torch_on_the_mean);
    tcase_add_test(t, test_adamw_param_groups_match_torch);
    suite_add_tcase(s, t);
    t = tcase_create("schedules");
    tcase_add_test(t, test_step_with_linear_warmup_by_epoch);
    tcase_add_test(t, test_step_by_iteration_with_exp_and_constant_warmup);
    tcase_add_test(t, test_cosine_with_min_lr_and_min_lr_ratio);
    tcase_add_test(t, test_poly_by_iteration);
    tcase_add_test(t, test_yolo_onecycle_by_epoch);
    suite_add_tcase(s, t);
    t = tcase_create("ema_and_checkpoints");
    tcase_add_test(t, test_ema_follows_mmdet_exp_momentum_formula);
    tcase_add_test(t, test_checkpoint_round_trip_with_ema_and_best);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
