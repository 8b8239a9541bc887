/* YOLOv5's optimisation recipe (train.py) iteration by iteration against
 * tests/parity/gen_yolov5_recipe.py: the schedule (warmup of every group's
 * lr, of the biases' lr and of the momentum, linear and one-cycle lf), the
 * nominal-batch accumulation (its warmup ramp, the steps it takes, the
 * gradients it drops at epoch starts), the three parameter groups with
 * nesterov SGD, scaled weight decay and clipping, --freeze, and ModelEMA
 * (averaging from the initial weights, buffers included). The loop below is
 * the trainer's (core/train/trainer.c) without the model: gradients and
 * running statistics come from the file. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "runtime/host_tensors.h"
#include "runtime/tensor_refs.h"
#include "train/accumulation.h"
#include "train/ema.h"
#include "train/freeze.h"
#include "train/optimizer.h"
#include "train/schedule.h"
#include "wbtest.h"

static const char *const k_params[] = {
    "backbone.stem.conv.weight", "backbone.stem.bn.weight", "backbone.stem.bn.bias", "backbone.stage1.0.conv.weight",
    "backbone.stage1.0.bn.weight", "backbone.stage1.0.bn.bias", "neck.fc.weight", "neck.fc.bias",
    "head.convs_pred.0.weight", "head.convs_pred.0.bias"};
static const char *const k_buffers[] = {"backbone.stem.bn.running_mean", "backbone.stem.bn.running_var",
                                        "backbone.stage1.0.bn.running_mean", "backbone.stage1.0.bn.running_var"};
enum { N_PARAMS = sizeof k_params / sizeof *k_params, N_BUFFERS = sizeof k_buffers / sizeof *k_buffers };
enum { N_ALL = N_PARAMS + N_BUFFERS };

/* The tolerance, relative to each tensor's largest value: float32 against
 * float64 over about 90 steps of nesterov SGD and EMA updates, each rounding
 * every value once or twice. */
#define RTOL 1e-6

typedef struct recipe_run {
    wb_st_file f;
    wb_session *s;
    wb_tensor *t[N_ALL]; /* parameters, then buffers */
    double worst_lr, worst_param, worst_ema;
} recipe_run;

static const char *name_of(int i) { return i < N_PARAMS ? k_params[i] : k_buffers[i - N_PARAMS]; }

static const float *tensor_at(const recipe_run *r, const char *prefix, int64_t k, int i) {
    char key[256];
    if (k >= 0) snprintf(key, sizeof key, "%s%lld.%s", prefix, (long long)k, name_of(i));
    else snprintf(key, sizeof key, "%s.%s", prefix, name_of(i));
    return wbt_parity_tensor(&r->f, key, r->t[i]->numel);
}

/* Parameters and buffers named and shaped as in the file, at its init values. */
static void create_model(recipe_run *r) {
    wb_context c;
    wb_context_init(&c, r->s, "", true);
    wb_init zero = {.kind = WB_INIT_CONSTANT};
    for (int i = 0; i < N_ALL; i++) {
        char key[256];
        snprintf(key, sizeof key, "init.%s", name_of(i));
        const wb_st_tensor *st = wb_st_find(&r->f, key);
        ck_assert_msg(st, "parity file lacks %s", key);
        r->t[i] = i < N_PARAMS ? wb_host_param_create(&c.pub, name_of(i), st->ndim, st->shape, &zero, 1)
                               : wb_host_buffer_create(&c.pub, name_of(i), st->ndim, st->shape, &zero);
        ck_assert_msg(r->t[i], "%s", c.msg);
        memcpy(r->t[i]->data, st->data, (size_t)st->numel * sizeof(float));
        /* the test writes gradients directly: the buffer a first backward would make */
        if (i < N_PARAMS) r->t[i]->grad = wb_grad_alloc(r->s, r->t[i]);
    }
}

/* max |got - want| / max |want| over a tensor (normwise: a value that an
 * update took near 0 keeps the rounding of the O(1) values it came from),
 * asserting it is within RTOL. */
static double check_rel(const char *what, const float *got, const float *want, int64_t n) {
    int64_t worst = 0;
    double diff = 0.0, scale = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= diff)) {
            diff = isnan(d) ? INFINITY : d;
            worst = i;
        }
        scale = fmax(scale, fabs((double)want[i]));
    }
    double ratio = diff == 0.0 ? 0.0 : diff / scale;
    ck_assert_msg(ratio <= RTOL, "%s: element %lld is %.9g, YOLOv5's %.9g (error %.2g of the largest value %.3g, "
                  "more than %g)", what, (long long)worst, (double)got[worst], (double)want[worst], ratio, scale, RTOL);
    return ratio;
}

static double check_scalar(const char *what, int64_t ni, double got, double want) {
    char label[128];
    snprintf(label, sizeof label, "%s at iteration %lld", what, (long long)ni);
    float g = (float)got, w = (float)want;
    return check_rel(label, &g, &w, 1);
}

/* Backward and forward of iteration ni as the file gives them. */
static void iteration_data(recipe_run *r, int64_t ni) {
    for (int i = 0; i < N_PARAMS; i++) {
        wb_tensor *p = r->t[i];
        if (!p->trainable) continue;
        const float *g = tensor_at(r, "grad", ni, i);
        for (int64_t j = 0; j < p->numel; j++) p->grad[j] = p->grad_valid ? p->grad[j] + g[j] : g[j];
        p->grad_valid = true;
    }
    for (int i = N_PARAMS; i < N_ALL; i++)
        memcpy(r->t[i]->data, tensor_at(r, "stat", ni, i), (size_t)r->t[i]->numel * sizeof(float));
}

static void after_step(recipe_run *r, const wb_ema *ema, int64_t k) {
    char what[320];
    for (int i = 0; i < N_ALL; i++) {
        if (i < N_PARAMS) {
            snprintf(what, sizeof what, "%s after step %lld", name_of(i), (long long)k);
            r->worst_param = fmax(r->worst_param, check_rel(what, r->t[i]->data, tensor_at(r, "step", k, i),
                                                            r->t[i]->numel));
        }
        snprintf(what, sizeof what, "EMA of %s after step %lld", name_of(i), (long long)k);
        r->worst_ema = fmax(r->worst_ema, check_rel(what, wb_ema_average(ema, name_of(i)),
                                                    tensor_at(r, "ema", k, i), r->t[i]->numel));
    }
}

static void check_recipe(const char *case_name) {
    recipe_run r = {0};
    if (!wbt_parity_open(case_name, &r.f)) return;
    r.s = wb_session_create(NULL, 0);
    create_model(&r);
#define ATTR(k) wbt_parity_attr(&r.f, k)
    int64_t nb = (int64_t)ATTR("nb"), epochs = (int64_t)ATTR("epochs"), iters = nb * epochs;
    int nbs = (int)ATTR("nbs"), batch = (int)ATTR("batch_size");
    const char *frozen_prefix = "backbone.stem"; /* the generator's --freeze */
    char err[512];
    ck_assert_int_eq(wb_freeze_params(r.s, &frozen_prefix, 1, err, sizeof err), 3);

    wb_optim_config oc = {.type = WB_OPTIM_SGD, .lr = (float)ATTR("lr0"), .momentum = (float)ATTR("momentum_final"),
                          .nesterov = 1, .grad_clip = 10.0f, .norm_decay_mult = 0.0f, .bias_decay_mult = 0.0f};
    oc.weight_decay = wb_nominal_weight_decay((float)ATTR("weight_decay"), nbs, batch);
    wb_schedule sched = {.base_lr = oc.lr, .policy = ATTR("cos_lr") != 0.0 ? WB_LR_ONECYCLE : WB_LR_LINEAR,
                         .by_epoch = 1, .max_iters = iters, .iters_per_epoch = nb, .lrf = (float)ATTR("lrf"),
                         .warmup = WB_WARMUP_LINEAR, .warmup_iters = 100, .warmup_ratio = 0.0f,
                         .warmup_epochs = ATTR("warmup_epochs"), .warmup_momentum = (float)ATTR("warmup_momentum"),
                         .warmup_bias_lr = (float)ATTR("warmup_bias_lr")};
    wb_ema_config ec = {WB_EMA_YOLOV5, (float)(1.0 - ATTR("ema_decay")), (float)ATTR("ema_tau"), true};
    wb_optimizer *opt = wb_optimizer_create(r.s, &oc);
    wb_ema *ema = wb_ema_create(r.s, &ec);
    ck_assert(opt && ema);

    const float *lr = wbt_parity_tensor(&r.f, "lr", iters * 3), *momentum = wbt_parity_tensor(&r.f, "momentum", iters);
    const float *accumulate = wbt_parity_tensor(&r.f, "accumulate", iters);
    const float *stepped = wbt_parity_tensor(&r.f, "stepped", iters);
    wb_accumulation acc = {1, nbs, batch, wb_schedule_warmup_iters(&sched), 0, -1};
    wb_accumulation_begin(&acc, 0);
    int64_t steps = 0;
    for (int64_t ni = 0; ni < iters; ni++) {
        if (ni == iters / 2) { /* a run resumed here steps where this one does */
            wb_accumulation resumed = {1, nbs, batch, acc.warmup_iters, 0, -1};
            wb_accumulation_begin(&resumed, ni);
            ck_assert_int_eq(resumed.last_step, acc.last_step);
        }
        if (wb_accumulation_drops(&acc, ni, nb)) wb_session_zero_grad(r.s);
        iteration_data(&r, ni);
        wb_step_params sp = wb_schedule_step(&sched, ni, oc.momentum);
        /* groups in smart_optimizer's order: biases, weights with decay, norm weights */
        double w = check_scalar("bias lr", ni, sp.bias_lr, lr[ni * 3]);
        w = fmax(w, check_scalar("weight lr", ni, sp.lr, lr[ni * 3 + 1]));
        w = fmax(w, check_scalar("norm weight lr", ni, sp.lr, lr[ni * 3 + 2]));
        r.worst_lr = fmax(r.worst_lr, fmax(w, check_scalar("momentum", ni, sp.momentum, momentum[ni])));
        ck_assert_int_eq(wb_accumulate_at(&acc, ni), (int)accumulate[ni]);
        bool step = wb_accumulation_step_now(&acc, ni, false, &sp.grad_scale);
        ck_assert_msg(step == (stepped[ni] != 0.0f), "iteration %lld: %s, YOLOv5 %s", (long long)ni,
                      step ? "stepped" : "did not step", stepped[ni] != 0.0f ? "did" : "did not");
        if (!step) continue;
        ck_assert(isfinite(wb_optimizer_step_with(opt, &sp)));
        wb_ema_update(ema);
        wb_session_zero_grad(r.s);
        after_step(&r, ema, steps++);
    }
    ck_assert_int_eq(steps, (int64_t)ATTR("steps"));
    printf("%s: %lld iterations, %lld steps (%d clipped), YOLOv5's own code: %s; worst relative error: lr and "
           "momentum %.2g, parameters %.2g, EMA %.2g\n", case_name, (long long)iters, (long long)steps,
           (int)ATTR("clipped"), ATTR("yolov5_code") != 0.0 ? "yes" : "no (transcribed)", r.worst_lr,
           r.worst_param, r.worst_ema);
#undef ATTR
    wb_ema_destroy(ema);
    wb_optimizer_destroy(opt);
    wb_session_destroy(r.s);
    wb_st_free(&r.f);
}

START_TEST(test_linear_lf_matches_yolov5_train_loop) { check_recipe("yolov5_recipe_linear"); }
END_TEST

START_TEST(test_one_cycle_lf_matches_yolov5_train_loop) { check_recipe("yolov5_recipe_cos"); }
END_TEST

/* YOLOv5's groups from the defaults of optimizer.paramwise, and the biases
 * (norm layers' too) in the group that takes the bias lr. */
START_TEST(test_default_paramwise_gives_yolov5_groups) {
    wb_session *s = wb_session_create(NULL, 0);
    wb_context c;
    wb_context_init(&c, s, "", true);
    wb_init zero = {.kind = WB_INIT_CONSTANT};
    int64_t conv[4] = {2, 2, 3, 3}, vec[1] = {2};
    const char *names[] = {"m.conv.weight", "m.conv.bias", "m.bn.weight", "m.bn.bias"};
    for (int i = 0; i < 4; i++) ck_assert(wb_host_param_create(&c.pub, names[i], i ? 1 : 4, i ? vec : conv, &zero, 1));
    wb_optim_config oc = {.type = WB_OPTIM_SGD, .lr = 0.01f, .momentum = 0.9f, .weight_decay = 0.0005f};
    wb_optimizer *opt = wb_optimizer_create(s, &oc);
    const float want_decay[4] = {0.0005f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < 4; i++) {
        float lr_mult, decay;
        ck_assert(wb_optimizer_param_group(opt, names[i], &lr_mult, &decay));
        ck_assert_msg(decay == want_decay[i], "%s: weight decay %g, expected %g", names[i], decay, want_decay[i]);
    }
    /* A step where biases and the rest have different lrs: grad 1, no momentum history, no decay on biases. */
    for (int i = 0; i < s->n_params; i++) {
        wb_tensor *p = s->params[i].tensor;
        p->grad = wb_grad_alloc(s, p);
        for (int64_t j = 0; j < p->numel; j++) p->grad[j] = 1.0f;
        p->grad_valid = true;
    }
    wb_step_params sp = {.lr = 0.01f, .bias_lr = 0.1f, .momentum = 0.0f, .grad_scale = 1.0f};
    wb_optimizer_step_with(opt, &sp);
    ck_assert_float_eq(s->params[1].tensor->data[0], -0.1f); /* conv bias */
    ck_assert_float_eq(s->params[3].tensor->data[0], -0.1f); /* bn bias */
    ck_assert_float_eq(s->params[2].tensor->data[0], -0.01f); /* bn weight */
    wb_optimizer_destroy(opt);
    wb_session_destroy(s);
}
END_TEST

START_TEST(test_freeze_takes_whole_name_parts_and_refuses_unknown_prefixes) {
    wb_session *s = wb_session_create(NULL, 0);
    wb_context c;
    wb_context_init(&c, s, "", true);
    wb_init zero = {.kind = WB_INIT_CONSTANT};
    int64_t shape[1] = {2};
    const char *names[] = {"backbone.stage1.0.weight", "backbone.stage10.0.weight", "head.weight"};
    for (int i = 0; i < 3; i++) ck_assert(wb_host_param_create(&c.pub, names[i], 1, shape, &zero, 1));
    char err[512];
    const char *stage1 = "backbone.stage1";
    ck_assert_int_eq(wb_freeze_params(s, &stage1, 1, err, sizeof err), 1);
    ck_assert(!s->params[0].tensor->trainable && !s->params[0].tensor->requires_grad);
    ck_assert(s->params[1].tensor->trainable && s->params[2].tensor->trainable);
    const char *typo = "backbone.stage";
    ck_assert_int_eq(wb_freeze_params(s, &typo, 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "optimizer.freeze: no parameter is named 'backbone.stage' or 'backbone.stage.*'; give a "
                          "prefix of the dotted names checkpoints use, such as 'backbone.stage1.0.weight'");
    wb_session_destroy(s);
}
END_TEST

/* Nominal batch 64: K and the weight decay as train.py computes them
 * (Python's round is half to even: 64 / 128 rounds to 0, then max 1). */
START_TEST(test_nominal_batch_accumulation_and_decay) {
    ck_assert_int_eq(wb_nominal_accumulate(64, 16), 4);
    ck_assert_int_eq(wb_nominal_accumulate(64, 20), 3);
    ck_assert_int_eq(wb_nominal_accumulate(64, 128), 1);
    ck_assert_int_eq(wb_nominal_accumulate(64, 256), 1);
    ck_assert_int_eq(wb_nominal_accumulate(10, 4), 2); /* 2.5 -> 2 */
    ck_assert_float_eq_tol(wb_nominal_weight_decay(0.0005f, 64, 20), 0.0005f * 60 / 64, 1e-12f);
    ck_assert_float_eq_tol(wb_nominal_weight_decay(0.0005f, 64, 128), 0.0005f * 2, 1e-12f);
}
END_TEST

int main(void) {
    Suite *s = suite_create("yolov5_recipe");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_linear_lf_matches_yolov5_train_loop);
    tcase_add_test(tc, test_one_cycle_lf_matches_yolov5_train_loop);
    tcase_add_test(tc, test_default_paramwise_gives_yolov5_groups);
    tcase_add_test(tc, test_freeze_takes_whole_name_parts_and_refuses_unknown_prefixes);
    tcase_add_test(tc, test_nominal_batch_accumulation_and_decay);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
