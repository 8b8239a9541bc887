/* Checkpoints as a hostile file can make them: trainer state that is not a
 * number, negative, past 2^63 or inconsistent, a best_checkpoint name that
 * leaves the work dir, NaN weights. Each is refused naming the field or the
 * tensor, and the session keeps its weights. Every file is generated here. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "io/safetensors.h"
#include "runtime/host_tensors.h"
#include "runtime/tensor_refs.h"
#include "train/checkpoint.h"
#include "wbtest.h"

static const int64_t k_shape[2] = {2, 2};

typedef struct net {
    wb_session *s;
    wb_context c;
    wb_tensor *w;
    wb_optimizer *opt;
} net;

static void net_init(net *n) {
    n->s = wb_session_create(NULL, 0);
    wb_context_init(&n->c, n->s, "net", true);
    wb_init one = {.kind = WB_INIT_CONSTANT, .value = 1.0f};
    n->w = wb_host_param_create(&n->c.pub, "conv.weight", 2, k_shape, &one, 1);
    wb_optim_config oc = {.type = WB_OPTIM_SGD, .momentum = 0.9f};
    n->opt = wb_optimizer_create(n->s, &oc);
}

static void net_free(net *n) {
    wb_optimizer_destroy(n->opt);
    wb_session_destroy(n->s);
}

/* A checkpoint of net with the given metadata (key, value pairs, NULL-ended) and weight values. */
static void write_checkpoint(const char *path, const char *const *meta, float weight) {
    float w[4] = {weight, 2, 3, 4}, m[4] = {0};
    wb_st_writer *wr = wb_st_writer_new();
    wb_st_writer_add(wr, "net.conv.weight", 2, k_shape, w);
    wb_st_writer_add(wr, "net.conv.weight::momentum", 2, k_shape, m);
    for (int i = 0; meta[i]; i += 2) wb_st_writer_meta(wr, meta[i], meta[i + 1]);
    char err[1024];
    ck_assert_msg(wb_st_writer_save(wr, path, err, sizeof err) == WB_OK, "%s", err);
    wb_st_writer_free(wr);
}

static void ckpt_path(char *path, size_t size) {
    snprintf(path, size, "%s/test_ckpt_hostile_%d.safetensors", WB_BINARY_DIR, (int)getpid());
}

/* Resuming from a file with this metadata fails naming fragment; the weights stay 1. */
static void expect_resume_refused(const char *const *meta, const char *fragment) {
    char path[4096], err[2048] = "";
    ckpt_path(path, sizeof path);
    write_checkpoint(path, meta, 5.0f);
    net n;
    net_init(&n);
    wb_train_state st = {0};
    wb_load_report rep;
    wb_load_opts lo = {n.opt, NULL, &st, false};
    wb_status rc = wb_checkpoint_load(path, n.s, &lo, &rep, err, sizeof err);
    ck_assert_msg(rc != WB_OK, "resumed from metadata expected to fail with '%s'", fragment);
    ck_assert_msg(strstr(err, path) == err && strstr(err, fragment), "message '%s' lacks '%s'", err, fragment);
    ck_assert_msg(n.w->data[0] == 1.0f && st.iteration == 0, "a refused resume changes nothing");
    printf("refused: %s\n", err);
    net_free(&n);
    unlink(path);
}

START_TEST(test_trainer_state_must_be_counts) {
    const char *banana[] = {"iteration", "banana", "epoch", "0", "optimizer_steps", "0", NULL};
    expect_resume_refused(banana, "__metadata__.iteration = \"banana\" is not an integer from 0 to 2^63-1");
    const char *negative[] = {"iteration", "10", "epoch", "-1", "optimizer_steps", "0", NULL};
    expect_resume_refused(negative, "__metadata__.epoch = \"-1\" is not an integer");
    const char *huge[] = {"iteration", "9223372036854775808", "epoch", "0", "optimizer_steps", "0", NULL};
    expect_resume_refused(huge, "__metadata__.iteration = \"9223372036854775808\" is not an integer");
    const char *spaced[] = {"iteration", " 7", "epoch", "0", "optimizer_steps", "0", NULL};
    expect_resume_refused(spaced, "__metadata__.iteration = \" 7\"");
    const char *trailing[] = {"iteration", "7x", "epoch", "0", "optimizer_steps", "0", NULL};
    expect_resume_refused(trailing, "__metadata__.iteration = \"7x\"");
    const char *missing[] = {"iteration", "7", "optimizer_steps", "0", NULL};
    expect_resume_refused(missing, "__metadata__.epoch is missing");
    const char *ema[] = {"iteration", "7", "epoch", "0", "optimizer_steps", "7", "ema_steps", "1e3", NULL};
    expect_resume_refused(ema, "__metadata__.ema_steps = \"1e3\"");
}
END_TEST

START_TEST(test_trainer_state_must_agree) {
    const char *epochs[] = {"iteration", "3", "epoch", "4", "optimizer_steps", "3", NULL};
    expect_resume_refused(epochs, "__metadata__.epoch = 4 is more than iteration = 3");
    const char *steps[] = {"iteration", "3", "epoch", "0", "optimizer_steps", "9223372036854775807", NULL};
    expect_resume_refused(steps, "__metadata__.optimizer_steps = 9223372036854775807 is more than iteration = 3");
    const char *nan[] = {"iteration", "3", "epoch", "0", "optimizer_steps", "3", "best_score", "nan",
                         "best_checkpoint", "best_mAP_epoch_1.safetensors", NULL};
    expect_resume_refused(nan, "__metadata__.best_score = \"nan\" is not a finite number");
    const char *half[] = {"iteration", "3", "epoch", "0", "optimizer_steps", "3", "best_score", "0.5", NULL};
    expect_resume_refused(half, "only one of best_score and best_checkpoint");
}
END_TEST

START_TEST(test_best_checkpoint_names_stay_in_the_work_dir) {
    static const char *const bad[] = {"../../victim/file", "/etc/passwd", "best_mAP_epoch_1.safetensors/../../x",
                                      "best_../../epoch_1.safetensors", "best_mAP_epoch_.safetensors",
                                      "best_mAP_1.safetensors", "best_mAP_epoch_1.safetensors\n", "", NULL};
    for (int i = 0; bad[i]; i++) {
        ck_assert_msg(!wb_checkpoint_best_name_ok(bad[i]), "'%s' accepted", bad[i]);
        const char *meta[] = {"iteration", "3", "epoch", "0", "optimizer_steps", "3", "best_score", "0.5",
                              "best_checkpoint", bad[i], NULL};
        expect_resume_refused(meta, "is not a name workbench gives a best checkpoint");
    }
    ck_assert(wb_checkpoint_best_name_ok("best_bbox_mAP_epoch_12.safetensors"));
    ck_assert(wb_checkpoint_best_name_ok("best_mAP_iter_300.safetensors"));
}
END_TEST

START_TEST(test_nonfinite_weights_only_when_asked) {
    char path[4096], err[2048];
    ckpt_path(path, sizeof path);
    const char *meta[] = {"iteration", "3", "epoch", "0", "optimizer_steps", "3", NULL};
    write_checkpoint(path, meta, NAN);
    net n;
    net_init(&n);
    wb_load_report rep;
    ck_assert(wb_checkpoint_load(path, n.s, NULL, &rep, err, sizeof err) == WB_ERR_NUMERIC);
    ck_assert_msg(strstr(err, "tensor 'net.conv.weight' holds NaN (element 0 of 4)") &&
                  strstr(err, "load_nonfinite = \"allow\""), "%s", err);
    ck_assert(n.w->data[0] == 1.0f);
    wb_train_state st = {0};
    wb_load_opts resume = {n.opt, NULL, &st, false};
    ck_assert(wb_checkpoint_load(path, n.s, &resume, &rep, err, sizeof err) == WB_ERR_NUMERIC);
    ck_assert(n.w->data[0] == 1.0f);
    resume.allow_nonfinite = true;
    ck_assert_msg(wb_checkpoint_load(path, n.s, &resume, &rep, err, sizeof err) == WB_OK, "%s", err);
    ck_assert(isnan(n.w->data[0]) && st.iteration == 3);
    net_free(&n);
    write_checkpoint(path, meta, INFINITY);
    net_init(&n);
    ck_assert(wb_checkpoint_load(path, n.s, NULL, &rep, err, sizeof err) == WB_ERR_NUMERIC);
    ck_assert_msg(strstr(err, "holds Inf"), "%s", err);
    net_free(&n);
    unlink(path);
}
END_TEST

START_TEST(test_optimizer_leaves_weights_on_nonfinite_gradient) {
    net n;
    net_init(&n);
    n.w->grad = wb_grad_alloc(n.s, n.w);
    for (int j = 0; j < 4; j++) n.w->grad[j] = j == 2 ? NAN : 0.5f;
    n.w->grad_valid = true;
    double norm = wb_optimizer_step(n.opt, 0.1f);
    ck_assert(isnan(norm));
    ck_assert(n.w->data[0] == 1.0f && n.w->data[2] == 1.0f && wb_optimizer_steps(n.opt) == 0);
    net_free(&n);
}
END_TEST

int main(void) {
    Suite *s = suite_create("checkpoint_hostile");
    TCase *t = tcase_create("checkpoints");
    tcase_add_test(t, test_trainer_state_must_be_counts);
    tcase_add_test(t, test_trainer_state_must_agree);
    tcase_add_test(t, test_best_checkpoint_names_stay_in_the_work_dir);
    tcase_add_test(t, test_nonfinite_weights_only_when_asked);
    tcase_add_test(t, test_optimizer_leaves_weights_on_nonfinite_gradient);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
