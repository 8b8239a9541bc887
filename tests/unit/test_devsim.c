/* The core on a backend whose memory the host cannot read (tests/support/
 * devsim_backend.c: PROT_NONE outside its own kernels and copies, the
 * reference kernels inside). Anything in the core that dereferences tensor
 * data instead of crossing the boundary (host_copy.h, tensor_map) crashes
 * here, and what crosses correctly gives the reference backend's numbers bit
 * for bit: training of tiny_cnn + center_head (whose loss and predict use
 * tensor_map) with EMA and checkpoints, a resume, and an evaluation batch
 * (validation losses and detections). */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <workbench/ops.h>
#include "app/val_loss.h"
#include "config/params.h"
#include "devsim_backend.h"
#include "model/model.h"
#include "ops/ops.h"
#include "plugin/registry.h"
#include "runtime/host_copy.h"
#include "runtime/host_tensors.h"
#include "train/trainer.h"
#include "wbt_two_images.h"
#include "wbtest.h"

START_TEST(test_devsim_memory_is_not_host_memory) {
    const wb_backend *be = wbt_devsim_backend();
    float in[5] = {1, 2, 3, 4, 5}, out[5] = {0};
    float *dev = be->alloc(sizeof in, WB_BUF_COMPUTE);
    ck_assert_ptr_nonnull(dev);
    be->upload(dev, in, sizeof in);
    be->download(out, dev, sizeof out);
    ck_assert(memcmp(in, out, sizeof in) == 0);
    ck_assert(wb_host_read_value(be, dev + 3) == 4.0f);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        volatile float v = dev[0]; /* a stray host read: must not return */
        (void)v;
        _exit(0);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 0), "the host read device memory");
    be->free(dev, WB_BUF_COMPUTE);
}
END_TEST

/* tensor_map on a device: a host copy that unmap uploads; written without
 * unmap, it is uploaded before an op reads the tensor (the CPU backend's
 * in-place pointer would have shown the op the writes) and, for a
 * parameter, at the end of the iteration. */
START_TEST(test_tensor_map_crosses_explicitly) {
    const wb_backend *be = wbt_devsim_backend();
    wb_session *s = wb_session_create(be, 1);
    wb_context c;
    wb_context_init(&c, s, "m", true);
    int64_t shape[1] = {4};
    wb_init zero = {.kind = WB_INIT_CONSTANT};
    wb_tensor *p = wb_host_param_create(&c.pub, "p", 1, shape, &zero, 1), *x = wb_host_tensor_new(&c.pub, 1, shape);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(x->device, WB_DEVICE_CUDA);
    float *hx = wb_host_tensor_map(&c.pub, x);
    ck_assert_ptr_nonnull(hx);
    ck_assert_ptr_ne(hx, x->data);
    ck_assert_ptr_eq(wb_host_tensor_map(&c.pub, x), hx); /* mapped twice: one copy */
    for (int i = 0; i < 4; i++) hx[i] = (float)(i + 1);
    wb_tensor *y = wb_op_scale(&c.pub, x, 2.0f); /* reads x: the writes go up first */
    float got[4];
    be->download(got, y->data, sizeof got);
    ck_assert(got[0] == 2.0f && got[3] == 8.0f);
    float *hp = wb_host_tensor_map(&c.pub, p);
    hp[1] = 5.0f;
    ck_assert_int_eq(wb_host_tensor_unmap(&c.pub, p), WB_OK);
    hp = wb_host_tensor_map(&c.pub, p);
    ck_assert(hp[1] == 5.0f); /* a new copy, downloaded */
    hp[2] = 7.0f;              /* left mapped: uploaded at the iteration's end */
    wb_session_reset_compute(s);
    be->download(got, p->data, sizeof got);
    ck_assert(got[0] == 0.0f && got[1] == 5.0f && got[2] == 7.0f);
    ck_assert(c.err == WB_OK);
    wb_session_destroy(s);
    ck_assert_int_eq(wbt_devsim_live_bytes(), 0);
}
END_TEST

/* A custom op computed on the host through tensor_map: y = 2x forward; its
 * backward writes grad_in through a map it never unmaps, as retina_head's
 * decode does, and the core uploads it before adding it to x's gradient. */
static wb_status twice_backward(wb_ctx *ctx, void *state, wb_tensor *const *in, int n_in, wb_tensor *const *saved,
                                int n_saved, wb_tensor *const *dout, int n_out, wb_tensor **din) {
    (void)state, (void)in, (void)n_in, (void)saved, (void)n_saved, (void)n_out;
    wb_tensor_info info = wb_info(ctx, dout[0]);
    din[0] = wb_tensor_new(ctx, info.ndim, info.shape);
    const float *g = wb_map(ctx, dout[0]);
    float *d = wb_map(ctx, din[0]);
    for (int64_t k = 0; d && g && k < info.numel; k++) d[k] = 2.0f * g[k];
    return wb_ok(ctx);
}

START_TEST(test_custom_op_gradient_written_through_a_map) {
    const wb_backend *be = wbt_devsim_backend();
    wb_session *s = wb_session_create(be, 1);
    wb_context c;
    wb_context_init(&c, s, "m", true);
    int64_t shape[1] = {3};
    const float xs[3] = {1, -2, 3}, ones[3] = {1, 1, 1};
    wb_tensor *x = wb_host_tensor_from_host(&c.pub, 1, shape, xs), *y = wb_tensor_new(&c.pub, 1, shape);
    ck_assert_ptr_nonnull(y);
    x->requires_grad = true;
    const float *hx = wb_map(&c.pub, x);
    float *hy = wb_map(&c.pub, y);
    for (int k = 0; k < 3; k++) hy[k] = 2.0f * hx[k];
    ck_assert_int_eq(wb_unmap(&c.pub, y), WB_OK);
    wb_custom_op op = {.struct_size = sizeof op, .name = "test.twice", .inputs = &x, .n_in = 1, .outputs = &y,
                       .n_out = 1, .backward = twice_backward};
    ck_assert_int_eq(wb_record_custom_op(&c.pub, &op), WB_OK);
    float *g = wb_grad_begin(&c, y);
    be->upload(g, ones, sizeof ones);
    wb_grad_end(&c, y, g);
    ck_assert_msg(wb_tape_backward(&c) == WB_OK, "%s", c.msg);
    float dx[3], got[3];
    be->download(dx, x->grad, sizeof dx);
    be->download(got, y->data, sizeof got);
    ck_assert(dx[0] == 2.0f && dx[1] == 2.0f && dx[2] == 2.0f);
    ck_assert(got[0] == 2.0f && got[1] == -4.0f && got[2] == 6.0f);
    wb_session_reset_compute(s);
    wb_session_destroy(s);
}
END_TEST

/* ---- tiny_cnn + center_head on two fixed images ---- */

typedef struct tiny {
    wb_registry *reg;
    config_t cfg;
    wb_session *s;
    wb_model *m;
} tiny;

static void tiny_build(tiny *t, const wb_backend *be) {
    t->reg = wb_registry_new();
    const char *files[] = {WB_PLUGIN_BUILD_DIR "/wb_backbone_tiny_cnn.so",
                           WB_PLUGIN_BUILD_DIR "/wb_head_center_head.so"};
    for (int i = 0; i < 2; i++)
        ck_assert_msg(wb_registry_load_file(t->reg, files[i], "test") == WB_OK, "%s", wb_registry_error(t->reg));
    config_init(&t->cfg);
    ck_assert(config_read_string(&t->cfg, "model = { backbone = { type = \"tiny_cnn\"; widths = [8, 16]; frozen_bn = "
              "false; }; head = { type = \"center_head\"; num_classes = 2; feat_channels = 16; center_radius = 1.5; "
              "prior_prob = 0.01; score_thr = 0.001; nms_iou = 0.5; nms_pre = 100; max_per_img = 10; }; };") ==
              CONFIG_TRUE);
    t->s = wb_session_create(be, 7);
    t->s->find_module = wb_registry_find_module;
    t->s->find_user = t->reg;
    char err[1024];
    ck_assert_msg(wb_model_build(t->s, wb_params_of(config_lookup(&t->cfg, "model")), &t->m, err, sizeof err) == WB_OK,
                  "%s", err);
}

static void tiny_free(tiny *t) {
    wb_model_destroy(t->m);
    wb_session_destroy(t->s);
    wb_registry_free(t->reg);
    config_destroy(&t->cfg);
}

/* Every parameter's and buffer's values, concatenated, read across the boundary. */
static float *state_of(wb_session *s, int64_t *n) {
    *n = 0;
    for (int i = 0; i < s->n_params; i++) *n += s->params[i].tensor->numel;
    float *w = malloc((size_t)*n * sizeof *w), *at = w;
    for (int i = 0; i < s->n_params; i++) {
        const wb_tensor *t = s->params[i].tensor;
        s->backend->download(at, t->data, (size_t)t->numel * sizeof *at);
        at += t->numel;
    }
    return w;
}

static void train(tiny *t, const char *dir, int64_t iters, const char *resume, wb_train_result *res) {
    wb_batch_source src = wbt_two_images_source();
    wb_trainer_opts o = {.work_dir = dir, .max_iters = iters, .log_interval = 1, .ckpt_interval = 1, .ema = 1,
                         .ema_cfg = {WB_EMA_MMDET, 0.5f, 2000.0f, false}, .resume_from = resume};
    o.optim = (wb_optim_config){.type = WB_OPTIM_SGD, .lr = 0.01f, .momentum = 0.9f, .weight_decay = 1e-4f};
    o.schedule = (wb_schedule){.base_lr = 0.01f, .policy = WB_LR_FIXED};
    char err[2048] = "";
    ck_assert_msg(wb_train(t->m, &src, &o, res, err, sizeof err) == WB_OK, "%s", err);
}

/* An evaluation batch as evaluate.c runs it: the validation losses (the
 * head's loss() on eval-mode predictions), then the detections, flattened:
 * the loss terms, then per image count, boxes, scores, labels. */
static float *predict(tiny *t, int64_t *n) {
    char err[1024] = "";
    wb_context *c = &wb_model_head(t->m)->ctx;
    wb_tensor *x = wb_ctx_tensor_uninit(c, 4, (int64_t[]){2, 3, 64, 64});
    ck_assert_ptr_nonnull(x);
    t->s->backend->upload(x->data, wbt_two_images(), WBT_TWO_IMAGES_NUMEL * sizeof(float));
    ck_assert_msg(wb_model_forward(t->m, x, false, err, sizeof err) == WB_OK, "%s", err);
    wb_val_loss vl = {0};
    wb_val_loss_add(&vl, t->m, wbt_two_images_truth());
    ck_assert(wb_val_loss_ready(&vl) && vl.n_terms == 2);
    wb_detections d[2] = {{sizeof d[0], 0, NULL, NULL, NULL}, {sizeof d[1], 0, NULL, NULL, NULL}};
    ck_assert_msg(wb_model_predict(t->m, wbt_two_images_truth(), d, err, sizeof err) == WB_OK, "%s", err);
    float *out = malloc((4 + 6 * (size_t)(d[0].num + d[1].num)) * sizeof *out), *at = out;
    for (int k = 0; k < 2; k++) *at++ = (float)wb_val_loss_mean(&vl, k);
    for (int i = 0; i < 2; i++) {
        *at++ = (float)d[i].num;
        memcpy(at, d[i].boxes, 4 * (size_t)d[i].num * sizeof *at), at += 4 * d[i].num;
        memcpy(at, d[i].scores, (size_t)d[i].num * sizeof *at), at += d[i].num;
        for (int k = 0; k < d[i].num; k++) *at++ = (float)d[i].labels[k];
    }
    *n = at - out;
    wb_model_release_detections(t->m, d, 2);
    wb_model_end_iteration(t->m);
    wb_session_reset_compute(t->s);
    return out;
}

static void assert_same_file(const char *a, const char *b) {
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    ck_assert_msg(system(cmd) == 0, "%s and %s differ", a, b);
}

static void remove_dir(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Three SGD steps with EMA and a checkpoint after each, on the reference and
 * on devsim; then on devsim a resume from iteration 2 to 3 in a new session. */
START_TEST(test_training_on_devsim_matches_reference_bit_for_bit) {
    char dirs[2][40] = {"/tmp/wb_test_devsim_ref_XXXXXX", "/tmp/wb_test_devsim_dev_XXXXXX"};
    const wb_backend *be[2] = {wb_backend_ref(), wbt_devsim_backend()};
    float *w[3], *det[2];
    int64_t nw[3], nd[2];
    wb_train_result res[3];
    for (int k = 0; k < 2; k++) {
        ck_assert_ptr_nonnull(mkdtemp(dirs[k]));
        tiny t;
        tiny_build(&t, be[k]);
        train(&t, dirs[k], 3, NULL, &res[k]);
        w[k] = state_of(t.s, &nw[k]);
        det[k] = predict(&t, &nd[k]);
        tiny_free(&t);
    }
    ck_assert_int_eq(wbt_devsim_live_bytes(), 0);
    ck_assert_int_eq(res[1].log_lines, 3);
    ck_assert_msg(res[0].first_loss == res[1].first_loss && res[0].last_loss == res[1].last_loss,
                  "losses: ref %.9g .. %.9g, devsim %.9g .. %.9g", res[0].first_loss, res[0].last_loss,
                  res[1].first_loss, res[1].last_loss);
    ck_assert(res[0].first_loss != res[0].last_loss); /* it trained */
    ck_assert_int_eq(nw[0], nw[1]);
    ck_assert_msg(memcmp(w[0], w[1], (size_t)nw[0] * sizeof *w[0]) == 0, "weights differ");
    ck_assert_int_eq(nd[0], nd[1]);
    ck_assert_msg(det[0][2] > 0 && memcmp(det[0], det[1], (size_t)nd[0] * sizeof *det[0]) == 0,
                  "validation losses or detections differ: %d and %d detections in image 0", (int)det[0][2],
                  (int)det[1][2]);
    char a[600], b[600];
    for (int i = 1; i <= 3; i++) {
        snprintf(a, sizeof a, "%s/iter_%d.safetensors", dirs[0], i);
        snprintf(b, sizeof b, "%s/iter_%d.safetensors", dirs[1], i);
        assert_same_file(a, b); /* weights, SGD momentum and EMA averages, read back from the device */
    }
    /* resumed on devsim: the uninterrupted run's weights */
    tiny t;
    tiny_build(&t, be[1]);
    snprintf(b, sizeof b, "%s/iter_2.safetensors", dirs[1]);
    char resumed[] = "/tmp/wb_test_devsim_resume_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(resumed));
    train(&t, resumed, 3, b, &res[2]);
    w[2] = state_of(t.s, &nw[2]);
    tiny_free(&t);
    ck_assert_int_eq(nw[2], nw[0]);
    ck_assert_msg(memcmp(w[0], w[2], (size_t)nw[0] * sizeof *w[0]) == 0, "resumed weights differ");
    snprintf(a, sizeof a, "%s/iter_3.safetensors", dirs[0]);
    snprintf(b, sizeof b, "%s/iter_3.safetensors", resumed);
    assert_same_file(a, b);
    for (int k = 0; k < 3; k++) free(w[k]);
    free(det[0]), free(det[1]);
    remove_dir(dirs[0]), remove_dir(dirs[1]), remove_dir(resumed);
}
END_TEST

static Suite *devsim_suite(void) {
    Suite *s = suite_create("devsim");
    TCase *tc = tcase_create("boundary");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_devsim_memory_is_not_host_memory);
    tcase_add_test(tc, test_tensor_map_crosses_explicitly);
    tcase_add_test(tc, test_custom_op_gradient_written_through_a_map);
    tcase_add_test(tc, test_training_on_devsim_matches_reference_bit_for_bit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return wbt_run_suite(devsim_suite()); }
