/* The bucketed gradient all-reduce (core/train/grad_sync.c) and the tape's
 * "gradient final" hook it starts buckets from, against a fake world of two
 * ranks (a dist module table of the test's own): when the hook fires, what
 * a bucket carries, when each bucket's sum starts, and the averaged result. */
#include <workbench/ops.h>
#include "dist/dist.h"
#include "dist/dist_module.h"
#include "runtime/host_tensors.h"
#include "train/grad_sync.h"
#include "wbtest.h"

/* The other rank reached every parameter, and each of its gradients is 1. */
typedef struct fake_world {
    int sums, waits;
    int hooks_at_start[8]; /* how many hook calls had happened when each sum started */
} fake_world;
static fake_world g_world;
static int g_hooks;

static int fake_isum(float *buf, int64_t n, void **request, char *err, size_t size) {
    (void)err, (void)size;
    for (int64_t k = 0; k < n; k++) buf[k] += 1.0f;
    if (g_world.sums < 8) g_world.hooks_at_start[g_world.sums] = g_hooks;
    g_world.sums++;
    *request = &g_world;
    return 0;
}
static int fake_test(void *request) { return request == &g_world; }
static int fake_wait(void *request, char *err, size_t size) {
    (void)err, (void)size;
    g_world.waits += request == &g_world;
    return 0;
}
static const wb_dist_module g_two_ranks = {.struct_size = sizeof g_two_ranks, .rank = 0, .world = 2, .name = "fake",
                                           .version = WB_DIST_MODULE_VERSION, .isum_f32 = fake_isum,
                                           .test = fake_test, .wait = fake_wait};

typedef struct finals {
    wb_tensor *param[8];
    float grad_then[8][4]; /* the gradient when the hook said final */
    int n;
    wb_grad_sync *sync;    /* forwarded to, when set */
} finals;

static void note_final(void *user, wb_tensor *p) {
    finals *f = user;
    g_hooks++;
    ck_assert_int_lt(f->n, 8);
    f->param[f->n] = p;
    for (int k = 0; k < p->numel; k++) f->grad_then[f->n][k] = p->grad_valid ? p->grad[k] : 0.0f;
    f->n++;
    if (f->sync) wb_grad_sync_on_final(f->sync, p);
}

typedef struct net {
    wbt_env e;
    wb_tensor *unused, *w1, *w2, *x;
} net;

/* unused, w1, w2 registered in that order; y = ((x * w1) * w2) * w1: w1's
 * first reader is the first node, w2's the second. */
static void net_init(net *n) {
    wbt_env_init(&n->e, wb_backend_ref(), 1);
    wb_init two = {.kind = WB_INIT_CONSTANT, .value = 2.0f}, three = {.kind = WB_INIT_CONSTANT, .value = 3.0f};
    n->unused = wb_host_param_create(n->e.ctx, "unused", 1, (int64_t[]){4}, &two, 1);
    n->w1 = wb_host_param_create(n->e.ctx, "w1", 1, (int64_t[]){4}, &two, 1);
    n->w2 = wb_host_param_create(n->e.ctx, "w2", 1, (int64_t[]){4}, &three, 1);
    ck_assert_ptr_nonnull(n->w2);
}

static void forward_backward(net *n) {
    n->x = wbt_from(&n->e, 1, (int64_t[]){4}, (const float[]){1, 2, 3, 4});
    wb_tensor *y = wb_mul(n->e.ctx, wb_mul(n->e.ctx, wb_mul(n->e.ctx, n->x, n->w1), n->w2), n->w1);
    ck_assert_ptr_nonnull(y);
    float *g = wb_grad_begin(&n->e.c, y);
    for (int k = 0; k < 4; k++) g[k] = 1.0f;
    wb_grad_end(&n->e.c, y, g);
    ck_assert_int_eq(wb_tape_backward(&n->e.c), WB_OK);
}

START_TEST(hook_fires_once_per_parameter_when_its_gradient_is_final) {
    net n;
    net_init(&n);
    finals f = {0};
    n.e.c.tape.on_final = note_final;
    n.e.c.tape.on_final_user = &f;
    forward_backward(&n);
    /* w2 after the second node, w1 after the first; the unused one never; x is no parameter */
    ck_assert_int_eq(f.n, 2);
    ck_assert_ptr_eq(f.param[0], n.w2);
    ck_assert_ptr_eq(f.param[1], n.w1);
    /* what the hook saw is the whole backward's gradient: d/dw1 (x w1^2 w2) = 2 x w1 w2 = 12 x */
    for (int k = 0; k < 4; k++) {
        ck_assert_float_eq(f.grad_then[1][k], n.w1->grad[k]);
        ck_assert_float_eq(n.w1->grad[k], 12.0f * (float)(k + 1));
        ck_assert_float_eq(f.grad_then[0][k], n.w2->grad[k]);
        ck_assert_float_eq(n.w2->grad[k], 4.0f * (float)(k + 1));
    }
    wbt_env_free(&n.e);
}
END_TEST

/* Frozen parameters are not the optimizer's: no hook for them. */
START_TEST(hook_skips_frozen_parameters) {
    net n;
    net_init(&n);
    n.w2->trainable = false;
    finals f = {0};
    n.e.c.tape.on_final = note_final;
    n.e.c.tape.on_final_user = &f;
    forward_backward(&n);
    ck_assert_int_eq(f.n, 1);
    ck_assert_ptr_eq(f.param[0], n.w1);
    wbt_env_free(&n.e);
}
END_TEST

/* Buckets of one parameter each (4 floats < 20 bytes): [w2], [w1], [unused]
 * in reverse registration order. w2's and w1's sums start inside the
 * backward, right as the hook reports them; the unused one's after it,
 * from launch_rest. Averaged: (mine + 1) / 2, and 1 / 2 where only the
 * other rank reached the parameter. */
START_TEST(buckets_start_during_backward_and_average) {
    net n;
    net_init(&n);
    memset(&g_world, 0, sizeof g_world);
    g_hooks = 0;
    wb_dist_use_module(&g_two_ranks);
    wb_grad_sync sync = {.bucket_mb = 20.0 / (1024 * 1024)};
    finals f = {.sync = &sync};
    wb_tape *tape = &n.e.c.tape;
    char err[256] = "";
    ck_assert_int_eq(wb_grad_sync_begin(&sync, n.e.s, &tape, 1, err, sizeof err), WB_OK);
    ck_assert_int_eq(sync.n_buckets, 3);
    /* the trainer's tapes call the sync directly; here a recorder sits in between */
    ck_assert_ptr_eq((void *)tape->on_final, (void *)wb_grad_sync_on_final);
    tape->on_final = note_final;
    tape->on_final_user = &f;
    forward_backward(&n);
    ck_assert_int_eq(g_world.sums, 2);
    ck_assert_int_eq(g_world.hooks_at_start[0], 1); /* w2's bucket, at w2's hook */
    ck_assert_int_eq(g_world.hooks_at_start[1], 2); /* w1's, at w1's */
    ck_assert_int_eq(wb_grad_sync_launch_rest(&sync, err, sizeof err), WB_OK);
    ck_assert_int_eq(g_world.sums, 3);
    ck_assert_ptr_null((void *)tape->on_final);
    ck_assert_int_eq(wb_grad_sync_finish(&sync, err, sizeof err), WB_OK);
    ck_assert_int_eq(g_world.waits, 3);
    ck_assert_int_eq((int)sync.started_early, 2);
    for (int k = 0; k < 4; k++) {
        ck_assert_float_eq(n.w1->grad[k], (12.0f * (float)(k + 1) + 1.0f) * 0.5f);
        ck_assert_float_eq(n.w2->grad[k], (4.0f * (float)(k + 1) + 1.0f) * 0.5f);
        ck_assert_float_eq(n.unused->grad[k], 0.5f);
    }
    ck_assert(n.unused->grad_valid);
    wb_grad_sync_free(&sync);
    wb_dist_use_module(NULL);
    wbt_env_free(&n.e);
}
END_TEST

/* bucket_mb = 0: one bucket, started only after the whole backward (the
 * fused all-reduce), with the same averages. */
START_TEST(one_bucket_after_backward) {
    net n;
    net_init(&n);
    memset(&g_world, 0, sizeof g_world);
    wb_dist_use_module(&g_two_ranks);
    wb_grad_sync sync = {.bucket_mb = 0};
    wb_tape *tape = &n.e.c.tape;
    char err[256] = "";
    ck_assert_int_eq(wb_grad_sync_begin(&sync, n.e.s, &tape, 1, err, sizeof err), WB_OK);
    ck_assert_int_eq(sync.n_buckets, 1);
    ck_assert_ptr_null((void *)tape->on_final);
    forward_backward(&n);
    ck_assert_int_eq(g_world.sums, 0);
    ck_assert_int_eq(wb_grad_sync_launch_rest(&sync, err, sizeof err), WB_OK);
    ck_assert_int_eq(wb_grad_sync_finish(&sync, err, sizeof err), WB_OK);
    ck_assert_int_eq(g_world.sums, 1);
    for (int k = 0; k < 4; k++) ck_assert_float_eq(n.w1->grad[k], (12.0f * (float)(k + 1) + 1.0f) * 0.5f);
    wb_grad_sync_free(&sync);
    wb_dist_use_module(NULL);
    wbt_env_free(&n.e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("grad_sync");
    TCase *t = tcase_create("core");
    tcase_add_test(t, hook_fires_once_per_parameter_when_its_gradient_is_final);
    tcase_add_test(t, hook_skips_frozen_parameters);
    tcase_add_test(t, buckets_start_during_backward_and_average);
    tcase_add_test(t, one_bucket_after_backward);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
