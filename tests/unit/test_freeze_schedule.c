/* train.freeze's pieces: the phase arithmetic (iterations across phases of
 * different epoch lengths, the iteration schedules see) and the frozen set,
 * which gives back only what it took. */
#include "runtime/host_tensors.h"
#include "train/freeze.h"
#include "train/phases.h"
#include "wbtest.h"

/* 2 frozen epochs of 8 iterations (batch 4 of 32 images), then 3 of 4 (batch 8). */
static wb_phases keras_like(void) {
    wb_phases ph = {0};
    wb_phases_add(&ph, 2, 8);
    wb_phases_add(&ph, 3, 4);
    return ph;
}

START_TEST(test_phases_count_iterations_and_epochs_across_the_switch) {
    wb_phases ph = keras_like();
    ck_assert_int_eq(wb_phases_iters(&ph), 2 * 8 + 3 * 4);
    ck_assert_int_eq(ph.p[1].first_iter, 16);
    ck_assert_int_eq(ph.p[1].first_epoch, 2);
    ck_assert_int_eq(wb_phase_at(&ph, 0), 0);
    ck_assert_int_eq(wb_phase_at(&ph, 15), 0);
    ck_assert_int_eq(wb_phase_at(&ph, 16), 1);
    ck_assert_int_eq(wb_phase_at(&ph, 28), 1); /* past the end: the last */
    const int64_t done[] = {0, 7, 8, 15, 16, 17, 19, 20, 28};
    const int64_t epochs[] = {0, 0, 1, 1, 2, 2, 2, 3, 5};
    for (int i = 0; i < 9; i++) ck_assert_int_eq(wb_phases_epochs_done(&ph, done[i]), epochs[i]);
}
END_TEST

/* A schedule sees the unfrozen phase as if every epoch had 4 iterations:
 * its first iteration is iteration 8 of such a run (epoch 2 starts there). */
START_TEST(test_virtual_iteration_keeps_the_epoch) {
    wb_phases ph = keras_like();
    ck_assert_int_eq(wb_phase_virtual_iter(&ph.p[0], 5), 5);
    ck_assert_int_eq(wb_phase_virtual_iter(&ph.p[1], 16), 8);
    ck_assert_int_eq(wb_phase_virtual_iter(&ph.p[1], 27), 19);
    ck_assert_int_eq(wb_phase_virtual_iter(&ph.p[1], 16) / ph.p[1].per_epoch, 2);
}
END_TEST

/* The frozen phase takes the backbone; what a backbone froze for good
 * (frozen_stages, optimizer.freeze) stays frozen when the phase ends. */
START_TEST(test_phase_end_gives_back_only_what_it_froze) {
    wb_session *s = wb_session_create(NULL, 0);
    wb_context c;
    wb_context_init(&c, s, "", true);
    wb_init zero = {.kind = WB_INIT_CONSTANT};
    int64_t shape[1] = {2};
    const char *names[] = {"backbone.stem.weight", "backbone.layer1.weight", "head.weight"};
    for (int i = 0; i < 3; i++) ck_assert(wb_host_param_create(&c.pub, names[i], 1, shape, &zero, 1));
    ck_assert(wb_host_buffer_create(&c.pub, "backbone.bn.running_mean", 1, shape, &zero));
    char err[512];
    const char *stem = "backbone.stem", *backbone = "backbone";
    ck_assert_int_eq(wb_freeze_params(s, &stem, 1, err, sizeof err), 1); /* frozen for good */
    wb_frozen_set set;
    ck_assert_int_eq(wb_freeze_phase_begin(s, &backbone, 1, &set, err, sizeof err), 1);
    ck_assert(!s->params[1].tensor->trainable && !s->params[1].tensor->requires_grad);
    ck_assert(s->params[2].tensor->trainable);
    wb_freeze_phase_end(s, &set);
    ck_assert(s->params[1].tensor->trainable && s->params[1].tensor->requires_grad);
    ck_assert(!s->params[0].tensor->trainable && !s->params[0].tensor->requires_grad);
    ck_assert_int_eq(set.n, 0);
    const char *both[] = {"head", "neck"};
    ck_assert_int_eq(wb_freeze_phase_begin(s, both, 2, &set, err, sizeof err), -1);
    ck_assert_str_eq(err, "train.freeze.modules: no parameter is named 'neck' or 'neck.*'; give a prefix of the "
                          "dotted names checkpoints use, such as 'backbone.stem.weight'");
    ck_assert(s->params[2].tensor->trainable); /* the failed begin gave head back */
    wb_session_destroy(s);
}
END_TEST

int main(void) {
    Suite *s = suite_create("freeze_schedule");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_phases_count_iterations_and_epochs_across_the_switch);
    tcase_add_test(tc, test_virtual_iteration_keeps_the_epoch);
    tcase_add_test(tc, test_phase_end_gives_back_only_what_it_froze);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
