/* fp16's loss scaling (core/train/loss_scaler.c) against torch.cuda.amp.GradScaler's
 * rules (init 2^16, x2 after 2000 finite steps in a row, x0.5 and a skipped step
 * on Inf / NaN), its checkpoint metadata round trip and refusals, and the trainer
 * with it: steps with NaN gradients (a fixture neck) leave every weight, the
 * optimizer and the EMA as they were while the run goes on at a lower scale,
 * a resumed run continues the scale, 50 skips in a row stop the run, and a
 * power-of-two scale changes no bit where nothing overflows. */
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config/params.h"
#include "model/model.h"
#include "plugin/registry.h"
#include "train/checkpoint.h"
#include "train/ema.h"
#include "train/loss_scaler.h"
#include "train/optimizer.h"
#include "train/trainer.h"
#include "wbt_two_images.h"
#include "wbtest.h"

START_TEST(test_dynamic_defaults_are_torchs) {
    wb_loss_scale_cfg c = wb_loss_scale_dynamic();
    ck_assert(c.enabled && c.dynamic);
    ck_assert(c.init_scale == 65536.0 && c.growth_factor == 2.0 && c.backoff_factor == 0.5);
    ck_assert_int_eq(c.growth_interval, 2000);
    wb_loss_scale_state s;
    wb_loss_scale_begin(&c, &s, false);
    ck_assert(s.scale == 65536.0 && s.good_steps == 0 && s.skipped == 0);
    ck_assert(wb_loss_scale_factor(&c, &s) == 65536.0f);
    ck_assert(wb_loss_scale_unscale(&c, &s) == 1.0f / 65536.0f);
}
END_TEST

START_TEST(test_growth_after_interval_of_good_steps) {
    wb_loss_scale_cfg c = wb_loss_scale_dynamic();
    wb_loss_scale_state s;
    wb_loss_scale_begin(&c, &s, false);
    for (int i = 1; i < 2000; i++) ck_assert(wb_loss_scale_update(&c, &s, true));
    ck_assert(s.scale == 65536.0);
    ck_assert_int_eq(s.good_steps, 1999);
    ck_assert(wb_loss_scale_update(&c, &s, true)); /* the 2000th */
    ck_assert(s.scale == 131072.0);
    ck_assert_int_eq(s.good_steps, 0);
    /* an Inf restarts the count: 1999 good, Inf, then 2000 more before the next growth */
    for (int i = 0; i < 1999; i++) wb_loss_scale_update(&c, &s, true);
    ck_assert(!wb_loss_scale_update(&c, &s, false));
    ck_assert(s.scale == 65536.0);
    for (int i = 0; i < 1999; i++) wb_loss_scale_update(&c, &s, true);
    ck_assert(s.scale == 65536.0);
    wb_loss_scale_update(&c, &s, true);
    ck_assert(s.scale == 131072.0);
    ck_assert_int_eq(s.skipped, 1);
}
END_TEST

START_TEST(test_backoff_and_skip_on_inf_and_nan) {
    wb_loss_scale_cfg c = wb_loss_scale_dynamic();
    wb_loss_scale_state s;
    wb_loss_scale_begin(&c, &s, false);
    for (int i = 0; i < 10; i++) wb_loss_scale_update(&c, &s, true);
    /* the trainer's check is isfinite(gradient norm): Inf and NaN alike */
    ck_assert(!wb_loss_scale_update(&c, &s, isfinite((double)INFINITY)));
    ck_assert(s.scale == 32768.0);
    ck_assert(!wb_loss_scale_update(&c, &s, isfinite((double)NAN)));
    ck_assert(s.scale == 16384.0);
    ck_assert_int_eq(s.good_steps, 0);
    ck_assert_int_eq(s.skipped, 2);
    ck_assert_int_eq(s.skipped_in_a_row, 2);
    ck_assert(wb_loss_scale_update(&c, &s, true));
    ck_assert_int_eq(s.skipped_in_a_row, 0);
    ck_assert_int_eq(s.skipped, 2);
    ck_assert(s.scale == 16384.0);
}
END_TEST

START_TEST(test_growth_stops_short_of_float_overflow) {
    wb_loss_scale_cfg c = wb_loss_scale_dynamic();
    c.growth_interval = 1;
    wb_loss_scale_state s;
    wb_loss_scale_begin(&c, &s, false);
    for (int i = 0; i < 200; i++) wb_loss_scale_update(&c, &s, true);
    ck_assert(s.scale == ldexp(1.0, 127)); /* 2^128 is Inf in float, the factor's type */
    ck_assert(isfinite(wb_loss_scale_factor(&c, &s)));
}
END_TEST

START_TEST(test_fixed_scale_skips_without_backoff) {
    wb_loss_scale_cfg c = wb_loss_scale_fixed(512.0);
    wb_loss_scale_state s;
    wb_loss_scale_begin(&c, &s, false);
    for (int i = 0; i < 5000; i++) ck_assert(wb_loss_scale_update(&c, &s, true));
    ck_assert(s.scale == 512.0);
    ck_assert(!wb_loss_scale_update(&c, &s, false));
    ck_assert(s.scale == 512.0);
    ck_assert_int_eq(s.skipped, 1);
    /* a resumed fixed-scale run takes its own scale, a dynamic one the checkpoint's */
    s.scale = 64.0;
    wb_loss_scale_begin(&c, &s, true);
    ck_assert(s.scale == 512.0 && s.skipped == 1);
    wb_loss_scale_cfg d = wb_loss_scale_dynamic();
    s.scale = 64.0;
    wb_loss_scale_begin(&d, &s, true);
    ck_assert(s.scale == 64.0);
    s.scale = 0; /* a checkpoint without loss scale: a fresh start */
    wb_loss_scale_begin(&d, &s, true);
    ck_assert(s.scale == 65536.0 && s.skipped == 0);
}
END_TEST

START_TEST(test_disabled_changes_nothing) {
    wb_loss_scale_cfg c = {0};
    wb_loss_scale_state s = {.scale = 8.0, .skipped = 3};
    wb_loss_scale_begin(&c, &s, true);
    ck_assert(s.scale == 0 && s.skipped == 0);
    ck_assert(wb_loss_scale_factor(&c, &s) == 1.0f && wb_loss_scale_unscale(&c, &s) == 1.0f);
    ck_assert(wb_loss_scale_update(&c, &s, true));
    ck_assert(!wb_loss_scale_update(&c, &s, false));
    ck_assert(s.skipped == 0 && s.scale == 0);
}
END_TEST

/* The state written as metadata and parsed back from the file's bytes. */
static wb_status round_trip(const wb_loss_scale_state *in, const char *const *extra, wb_loss_scale_state *out,
                            char *err, size_t n) {
    char path[] = "/tmp/wb_test_loss_scaler_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    wb_st_writer *w = wb_st_writer_new();
    int64_t shape[1] = {1};
    float x = 1.0f;
    wb_st_writer_add(w, "x", 1, shape, &x);
    wb_loss_scale_write_meta(in, w);
    for (int i = 0; extra && extra[i]; i += 2) wb_st_writer_meta(w, extra[i], extra[i + 1]);
    ck_assert_int_eq(wb_st_writer_save(w, path, err, n), WB_OK);
    wb_st_writer_free(w);
    wb_st_file f;
    ck_assert_int_eq(wb_st_read(path, &f, err, n), WB_OK);
    wb_status rc = wb_loss_scale_read_meta(out, &f, path, err, n);
    wb_st_free(&f);
    unlink(path);
    return rc;
}

START_TEST(test_state_round_trip) {
    wb_loss_scale_state in = {.scale = 0.125 * 3, .good_steps = 1234, .skipped = 17, .skipped_in_a_row = 2}, out;
    char err[512];
    ck_assert_int_eq(round_trip(&in, NULL, &out, err, sizeof err), WB_OK);
    ck_assert(out.scale == in.scale && out.good_steps == 1234 && out.skipped == 17 && out.skipped_in_a_row == 2);
    wb_loss_scale_state none = {0};
    ck_assert_int_eq(round_trip(&none, NULL, &out, err, sizeof err), WB_OK);
    ck_assert(out.scale == 0 && out.skipped == 0);
}
END_TEST

START_TEST(test_damaged_state_refused) {
    static const struct {
        int key;
        const char *value, *message;
    } cases[] = {
        {0, "-2", "__metadata__.loss_scale = \"-2\" is not a positive finite number"},
        {0, "inf", "__metadata__.loss_scale = \"inf\" is not a positive finite number"},
        {0, "1e39", "__metadata__.loss_scale = \"1e39\" is not a positive finite number"},
        {1, "12x", "__metadata__.loss_scale_good_steps = \"12x\" is not an integer"},
        {3, "9", "__metadata__.loss_scale_skipped_in_a_row = \"9\" is not at most loss_scale_skipped"},
        {2, NULL, "__metadata__.loss_scale_skipped = \"(missing)\" is not there"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* a good state, one value replaced (or left out) */
        const char *meta[] = {"loss_scale", "4", "loss_scale_good_steps", "0", "loss_scale_skipped", "3",
                              "loss_scale_skipped_in_a_row", "1", NULL};
        meta[2 * cases[i].key + 1] = cases[i].value;
        const char *extra[9] = {NULL};
        for (int k = 0, at = 0; k < 4; k++)
            if (meta[2 * k + 1]) extra[at++] = meta[2 * k], extra[at++] = meta[2 * k + 1];
        wb_loss_scale_state none = {0}, out;
        char err[512];
        ck_assert_int_eq(round_trip(&none, extra, &out, err, sizeof err), WB_ERR_INVALID);
        ck_assert_msg(strstr(err, cases[i].message) && strstr(err, "cannot resume"), "%s", err);
    }
}
END_TEST

/* ---- the trainer with loss scaling: tiny_cnn (+ a neck) + center_head on two fixed images ---- */

static wb_registry *g_reg;
static config_t g_cfg;

/* neck: "" for none, or "nan_gradient" (tests/fixtures: an identity whose backward gives NaN, as a gradient
 * that overflowed fp16 would). */
static wb_model *tiny_model(const char *neck, wb_session **s) {
    g_reg = wb_registry_new();
    const char *files[] = {WB_PLUGIN_BUILD_DIR "/wb_backbone_tiny_cnn.so", WB_PLUGIN_BUILD_DIR "/wb_head_center_head.so",
                           WB_FIXTURE_DIR "/nan_gradient/fixture_nan_gradient.so"};
    for (int i = 0; i < 3; i++)
        ck_assert_msg(wb_registry_load_file(g_reg, files[i], "test") == WB_OK, "%s", wb_registry_error(g_reg));
    char text[1024];
    snprintf(text, sizeof text, "model = { backbone = { type = \"tiny_cnn\"; widths = [8, 16]; frozen_bn = false; }; "
             "%s%s%s head = { type = \"center_head\"; num_classes = 2; feat_channels = 16; center_radius = 1.5; "
             "prior_prob = 0.01; score_thr = 0.05; nms_iou = 0.5; nms_pre = 100; max_per_img = 10; }; };",
             neck[0] ? "neck = { type = \"" : "", neck, neck[0] ? "\"; };" : "");
    config_init(&g_cfg);
    ck_assert(config_read_string(&g_cfg, text) == CONFIG_TRUE);
    *s = wb_session_create(NULL, 7);
    (*s)->find_module = wb_registry_find_module;
    (*s)->find_user = g_reg;
    wb_model *m = NULL;
    char err[1024];
    ck_assert_msg(wb_model_build(*s, wb_params_of(config_lookup(&g_cfg, "model")), &m, err, sizeof err) == WB_OK,
                  "%s", err);
    return m;
}

static void free_model(wb_model *m, wb_session *s) {
    wb_model_destroy(m);
    wb_session_destroy(s);
    wb_registry_free(g_reg);
    config_destroy(&g_cfg);
}

/* Every trainable parameter's values, concatenated. */
static float *weights_of(wb_session *s, int64_t *n) {
    *n = 0;
    for (int i = 0; i < s->n_params; i++) *n += s->params[i].tensor->trainable ? s->params[i].tensor->numel : 0;
    float *w = malloc((size_t)*n * sizeof *w), *at = w;
    for (int i = 0; i < s->n_params; i++) {
        const wb_tensor *t = s->params[i].tensor;
        if (!t->trainable) continue;
        memcpy(at, t->data, (size_t)t->numel * sizeof *at);
        at += t->numel;
    }
    return w;
}

static wb_status train_iters(wb_model *m, const char *work_dir, int64_t iters, int ckpt_interval,
                             const wb_loss_scale_cfg *ls, const char *resume, char *err, size_t n) {
    wb_batch_source src = wbt_two_images_source();
    wb_trainer_opts o = {.work_dir = work_dir, .max_iters = iters, .log_interval = 1, .ckpt_interval = ckpt_interval,
                         .ema = 1, .ema_cfg = {WB_EMA_MMDET, 0.5f, 2000.0f, false}, .loss_scale = *ls,
                         .resume_from = resume};
    o.optim = (wb_optim_config){.type = WB_OPTIM_SGD, .lr = 0.01f, .momentum = 0.9f, .weight_decay = 1e-4f};
    o.schedule = (wb_schedule){.base_lr = 0.01f, .policy = WB_LR_FIXED};
    wb_train_result res;
    return wb_train(m, &src, &o, &res, err, n);
}

static char *make_dir(void) {
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/wb_test_loss_scaler_run_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static void remove_dir(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static wb_train_state state_of(const char *dir, const char *file) {
    char path[600], err[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    wb_train_state st;
    ck_assert_msg(wb_checkpoint_read_state(path, &st, err, sizeof err) == WB_OK, "%s", err);
    return st;
}

/* Every step's gradient is NaN: each is skipped (no weight, no EMA average
 * moves; the optimizer counts no step), the scale halves each time, the run
 * goes on; the checkpoints hold the scale, and a resumed run goes on from it. */
START_TEST(test_trainer_skips_nonfinite_steps) {
    wb_session *s;
    wb_model *m = tiny_model("nan_gradient", &s);
    char *dir = make_dir(), err[2048] = "";
    int64_t n0, n1;
    float *before = weights_of(s, &n0);
    wb_loss_scale_cfg ls = wb_loss_scale_dynamic();
    ck_assert_msg(train_iters(m, dir, 2, 1, &ls, NULL, err, sizeof err) == WB_OK, "%s", err);
    float *after = weights_of(s, &n1);
    ck_assert_int_eq(n0, n1);
    ck_assert_msg(memcmp(before, after, (size_t)n0 * sizeof *before) == 0, "a skipped step changed weights");
    wb_train_state st = state_of(dir, "iter_2.safetensors");
    ck_assert_msg(st.amp.scale == 16384.0, "scale %g", st.amp.scale);
    ck_assert_int_eq(st.amp.skipped, 2);
    ck_assert_int_eq(st.amp.skipped_in_a_row, 2);
    char path[600];
    snprintf(path, sizeof path, "%s/iter_2.safetensors", dir);
    wb_st_file f;
    ck_assert_int_eq(wb_st_read(path, &f, err, sizeof err), WB_OK);
    ck_assert_str_eq(wb_st_meta(&f, "optimizer_steps"), "0");
    ck_assert_str_eq(wb_st_meta(&f, "ema_steps"), "0");
    wb_st_free(&f);
    /* resumed from iter_2: 8192 after the third skip (65536 / 2 had it started over), 3 skipped in all */
    ck_assert_msg(train_iters(m, dir, 3, 1, &ls, path, err, sizeof err) == WB_OK, "%s", err);
    st = state_of(dir, "iter_3.safetensors");
    ck_assert_msg(st.amp.scale == 8192.0, "scale %g", st.amp.scale);
    ck_assert_int_eq(st.amp.skipped, 3);
    free(before), free(after);
    remove_dir(dir);
    free_model(m, s);
}
END_TEST

/* 50 skipped steps in a row: no overflow explains that; the run stops naming
 * the first parameter whose gradient is not finite. A checkpoint written
 * after 49 of them (no step, scale 2^16 / 2^49) is resumed: the 50th stops it.
 * Without amp the first NaN stops a run. */
START_TEST(test_trainer_stops_after_50_skips_in_a_row) {
    wb_session *s;
    wb_model *m = tiny_model("nan_gradient", &s);
    char *dir = make_dir(), err[2048] = "", path[600];
    wb_optim_config oc = {.type = WB_OPTIM_SGD, .lr = 0.01f, .momentum = 0.9f, .weight_decay = 1e-4f};
    wb_optimizer *opt = wb_optimizer_create(s, &oc);
    wb_ema *ema = wb_ema_create(s, &(wb_ema_config){WB_EMA_MMDET, 0.5f, 2000.0f, false});
    wb_train_state st = {.iteration = 49, .epoch = 49, .world = 1, .amp = {ldexp(1.0, 16 - 49), 0, 49, 49}};
    snprintf(path, sizeof path, "%s/iter_49.safetensors", dir);
    ck_assert_msg(wb_checkpoint_save(path, s, opt, ema, &st, NULL, err, sizeof err) == WB_OK, "%s", err);
    wb_optimizer_destroy(opt);
    wb_ema_destroy(ema);
    wb_loss_scale_cfg ls = wb_loss_scale_dynamic(), off = {0};
    ck_assert_int_eq(train_iters(m, dir, 60, 0, &ls, path, err, sizeof err), WB_ERR_NUMERIC);
    ck_assert_msg(strstr(err, "the gradient norm is NaN at iteration 50: the first parameter with a NaN or Inf "
                              "gradient is backbone.") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "amp = \"fp16\" skipped the last 50 steps for NaN / Inf gradients, down to loss "
                              "scale 5.82077e-11") != NULL, "%s", err);
    ck_assert_int_eq(train_iters(m, dir, 60, 0, &off, NULL, err, sizeof err), WB_ERR_NUMERIC);
    ck_assert_msg(strstr(err, "the gradient norm is NaN at iteration 1:") && !strstr(err, "fp16"), "%s", err);
    remove_dir(dir);
    free_model(m, s);
}
END_TEST

/* Loss scaling is exact where nothing overflows: a power-of-two scale and its
 * inverse change no bit of the float32 gradients, so the weights after two
 * steps equal those without scaling. */
START_TEST(test_trainer_power_of_two_scale_is_exact) {
    float *w[2];
    int64_t n[2];
    for (int k = 0; k < 2; k++) {
        wb_session *s;
        wb_model *m = tiny_model("", &s);
        char *dir = make_dir(), err[2048] = "";
        wb_loss_scale_cfg ls = k == 0 ? (wb_loss_scale_cfg){0} : wb_loss_scale_dynamic();
        ck_assert_msg(train_iters(m, dir, 2, 0, &ls, NULL, err, sizeof err) == WB_OK, "%s", err);
        w[k] = weights_of(s, &n[k]);
        remove_dir(dir);
        free_model(m, s);
    }
    ck_assert_int_eq(n[0], n[1]);
    ck_assert_msg(memcmp(w[0], w[1], (size_t)n[0] * sizeof *w[0]) == 0, "loss scale 2^16 changed the weights");
    free(w[0]), free(w[1]);
}
END_TEST

static Suite *loss_scaler_suite(void) {
    Suite *s = suite_create("loss_scaler");
    TCase *rules = tcase_create("rules");
    tcase_add_test(rules, test_dynamic_defaults_are_torchs);
    tcase_add_test(rules, test_growth_after_interval_of_good_steps);
    tcase_add_test(rules, test_backoff_and_skip_on_inf_and_nan);
    tcase_add_test(rules, test_growth_stops_short_of_float_overflow);
    tcase_add_test(rules, test_fixed_scale_skips_without_backoff);
    tcase_add_test(rules, test_disabled_changes_nothing);
    tcase_add_test(rules, test_state_round_trip);
    tcase_add_test(rules, test_damaged_state_refused);
    suite_add_tcase(s, rules);
    TCase *trainer = tcase_create("trainer");
    tcase_add_test(trainer, test_trainer_skips_nonfinite_steps);
    tcase_add_test(trainer, test_trainer_stops_after_50_skips_in_a_row);
    tcase_add_test(trainer, test_trainer_power_of_two_scale_is_exact);
    suite_add_tcase(s, trainer);
    return s;
}

int main(void) { return wbt_run_suite(loss_scaler_suite()); }
