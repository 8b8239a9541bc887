/* Which collectives table does what when the CUDA backend trains under
 * mpirun (core/dist/dist.c, core/train/grad_sync.c): the NCCL table is
 * wanted for a CUDA backend with several ranks only; with it open, the
 * gradient buckets' sums get backend buffers of gradients alone (nothing is
 * downloaded or uploaded), their per-parameter flags go to the MPI table
 * through the host, the averages are the MPI path's, and every other
 * collective (SyncBN's, the trainer's) stays on the MPI table. Fake tables
 * of two ranks on the reference backend stand in for MPI and NCCL. */
#include <stdlib.h>
#include <workbench/ops.h>
#include "dist/dist.h"
#include "dist/dist_module.h"
#include "runtime/host_tensors.h"
#include "train/grad_sync.h"
#include "wbtest.h"

/* What each table was handed; the other rank reached every parameter, each of its values is 1. */
typedef struct fake_table {
    int isums, sums, waits, finalized_at;
    int64_t n;             /* the last isum's length */
    float seen[16];        /* and its values before the other rank's were added */
} fake_table;
static fake_table g_host_seen, g_device_seen;
static int g_finalized;

static int isum(fake_table *t, float *buf, int64_t n, void **request) {
    t->isums++;
    t->n = n;
    for (int64_t k = 0; k < n && k < 16; k++) t->seen[k] = buf[k];
    for (int64_t k = 0; k < n; k++) buf[k] += 1.0f;
    *request = t;
    return 0;
}
static int host_isum(float *buf, int64_t n, void **request, char *err, size_t size) {
    (void)err, (void)size;
    return isum(&g_host_seen, buf, n, request);
}
static int device_isum(float *buf, int64_t n, void **request, char *err, size_t size) {
    (void)err, (void)size;
    return isum(&g_device_seen, buf, n, request);
}
static int test_done(void *request) { return request != NULL; }
static int wait_done(void *request, char *err, size_t size) {
    (void)err, (void)size;
    ((fake_table *)request)->waits++;
    return 0;
}
static int host_sum(float *buf, int64_t n, char *err, size_t size) {
    (void)buf, (void)n, (void)err, (void)size;
    g_host_seen.sums++;
    return 0;
}
static int device_sum(float *buf, int64_t n, char *err, size_t size) {
    (void)buf, (void)n, (void)err, (void)size;
    g_device_seen.sums++;
    return 0;
}
static void host_finalize(void) { g_host_seen.finalized_at = ++g_finalized; }
static void device_finalize(void) { g_device_seen.finalized_at = ++g_finalized; }

static const wb_dist_module g_mpi = {.struct_size = sizeof g_mpi, .rank = 0, .world = 2, .name = "fake MPI",
                                     .version = WB_DIST_MODULE_VERSION, .sum_f32 = host_sum, .isum_f32 = host_isum,
                                     .test = test_done, .wait = wait_done, .finalize = host_finalize};
static const wb_dist_module g_nccl = {.struct_size = sizeof g_nccl, .rank = 0, .world = 2, .name = "fake NCCL",
                                      .version = WB_DIST_MODULE_VERSION, .sum_f32 = device_sum,
                                      .isum_f32 = device_isum, .test = test_done, .wait = wait_done,
                                      .finalize = device_finalize};

/* The reference backend, counting host <-> backend transfers. */
static wb_backend g_counting;
static int g_transfers;
static void counted_upload(void *dst, const void *src, size_t bytes) {
    g_transfers++;
    wb_backend_ref()->upload(dst, src, bytes);
}
static void counted_download(void *dst, const void *src, size_t bytes) {
    g_transfers++;
    wb_backend_ref()->download(dst, src, bytes);
}

START_TEST(nccl_only_for_cuda_with_several_ranks) {
    ck_assert(!wb_dist_wants_device_sums(WB_DEVICE_CPU, 1));
    ck_assert(!wb_dist_wants_device_sums(WB_DEVICE_CPU, 4));
    ck_assert(!wb_dist_wants_device_sums(WB_DEVICE_CUDA, 1));
    ck_assert(wb_dist_wants_device_sums(WB_DEVICE_CUDA, 2));
    ck_assert(wb_dist_wants_device_sums(WB_DEVICE_CUDA, 512));
}
END_TEST

/* Alone there is nothing to open; under a launcher a missing module is refused naming the rank and the variable. */
START_TEST(opening_the_nccl_module) {
    char err[1024] = "";
    ck_assert_int_eq(wb_dist_open_device(0, (void *)&err, err, sizeof err), WB_OK);
    ck_assert(!wb_dist_device_sums());
    setenv("WB_DIST_NCCL_MODULE", "/nonexistent/libwb_dist_nccl.so", 1);
    wb_dist_use_module(&g_mpi);
    ck_assert_int_eq(wb_dist_open_device(0, (void *)&err, err, sizeof err), WB_ERR_IO);
    ck_assert_msg(strstr(err, "rank 0") && strstr(err, "/nonexistent/libwb_dist_nccl.so") &&
                      strstr(err, "WB_DIST_NCCL_MODULE"), "%s", err);
    ck_assert(!wb_dist_device_sums());
    wb_dist_use_module(NULL);
    unsetenv("WB_DIST_NCCL_MODULE");
}
END_TEST

/* unused, w1, w2 = 2, 2, 3 (4 each); y = ((x * w1) * w2) * w1 with x = 1..4:
 * dw1 = 12 x, dw2 = 4 x, unused none. One bucket [w2, w1, unused]. */
START_TEST(gradient_buckets_on_the_device_table) {
    g_counting = *wb_backend_ref();
    g_counting.upload = counted_upload;
    g_counting.download = counted_download;
    wbt_env e;
    wbt_env_init(&e, &g_counting, 1);
    wb_init two = {.kind = WB_INIT_CONSTANT, .value = 2.0f}, three = {.kind = WB_INIT_CONSTANT, .value = 3.0f};
    wb_tensor *unused = wb_host_param_create(e.ctx, "unused", 1, (int64_t[]){4}, &two, 1);
    wb_tensor *w1 = wb_host_param_create(e.ctx, "w1", 1, (int64_t[]){4}, &two, 1);
    wb_tensor *w2 = wb_host_param_create(e.ctx, "w2", 1, (int64_t[]){4}, &three, 1);
    ck_assert_ptr_nonnull(w2);
    memset(&g_host_seen, 0, sizeof g_host_seen);
    memset(&g_device_seen, 0, sizeof g_device_seen);
    wb_dist_use_module(&g_mpi);
    wb_dist_use_device_module(&g_nccl);
    ck_assert(wb_dist_device_sums());

    wb_grad_sync sync = {.bucket_mb = 0};
    wb_tape *tape = &e.c.tape;
    char err[256] = "";
    ck_assert_int_eq(wb_grad_sync_begin(&sync, e.s, &tape, 1, err, sizeof err), WB_OK);
    wb_tensor *x = wbt_from(&e, 1, (int64_t[]){4}, (const float[]){1, 2, 3, 4});
    wb_tensor *y = wb_mul(e.ctx, wb_mul(e.ctx, wb_mul(e.ctx, x, w1), w2), w1);
    ck_assert_ptr_nonnull(y);
    float *g = wb_grad_begin(&e.c, y);
    for (int k = 0; k < 4; k++) g[k] = 1.0f;
    wb_grad_end(&e.c, y, g);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    int transfers_before = g_transfers;
    ck_assert_int_eq(wb_grad_sync_launch_rest(&sync, err, sizeof err), WB_OK);
    ck_assert_int_eq(wb_grad_sync_finish(&sync, err, sizeof err), WB_OK);
    ck_assert_int_eq(g_transfers, transfers_before); /* no staging through the host */

    /* the flags by MPI, the gradients alone by NCCL, from a buffer of the bucket's own */
    ck_assert_int_eq(g_host_seen.isums, 1);
    ck_assert_int_eq(g_host_seen.n, 3);
    ck_assert_float_eq(g_host_seen.seen[0], 1.0f);
    ck_assert_float_eq(g_host_seen.seen[1], 1.0f);
    ck_assert_float_eq(g_host_seen.seen[2], 0.0f);
    ck_assert_int_eq(g_device_seen.isums, 1);
    ck_assert_int_eq(g_device_seen.n, 12);
    for (int k = 0; k < 4; k++) {
        ck_assert_float_eq(g_device_seen.seen[k], 4.0f * (float)(k + 1));
        ck_assert_float_eq(g_device_seen.seen[4 + k], 12.0f * (float)(k + 1));
        ck_assert_float_eq(g_device_seen.seen[8 + k], 0.0f);
    }
    ck_assert_int_eq(g_host_seen.waits, 1);
    ck_assert_int_eq(g_device_seen.waits, 1);
    ck_assert_ptr_nonnull(sync.buckets[0].device);
    ck_assert_ptr_ne(sync.buckets[0].device, w1->grad);
    ck_assert_ptr_ne(sync.buckets[0].device, w2->grad);

    /* the MPI path's averages: (mine + 1) / 2, and 1 / 2 where only the other rank reached the parameter */
    for (int k = 0; k < 4; k++) {
        ck_assert_float_eq(w1->grad[k], (12.0f * (float)(k + 1) + 1.0f) * 0.5f);
        ck_assert_float_eq(w2->grad[k], (4.0f * (float)(k + 1) + 1.0f) * 0.5f);
        ck_assert_float_eq(unused->grad[k], 0.5f);
    }
    ck_assert(unused->grad_valid);

    /* every other sum (SyncBN's, the trainer's checks) stays on MPI's host buffers */
    float host_value = 1.0f;
    ck_assert_int_eq(wb_dist_sum_f32(&host_value, 1, err, sizeof err), WB_OK);
    ck_assert_int_eq(g_host_seen.sums, 1);
    ck_assert_int_eq(g_device_seen.sums, 0);
    wb_grad_sync_free(&sync);

    /* NCCL's communicator goes before the MPI it was set up over */
    g_finalized = 0;
    wb_dist_finalize();
    ck_assert_int_eq(g_device_seen.finalized_at, 1);
    ck_assert_int_eq(g_host_seen.finalized_at, 2);
    ck_assert(!wb_dist_device_sums());
    wbt_env_free(&e);
}
END_TEST

/* The MPI path is untouched when no NCCL table is open: one host buffer of flags and gradients. */
START_TEST(without_nccl_the_bucket_is_one_host_buffer) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    wb_init two = {.kind = WB_INIT_CONSTANT, .value = 2.0f};
    ck_assert_ptr_nonnull(wb_host_param_create(e.ctx, "w", 1, (int64_t[]){4}, &two, 1));
    memset(&g_host_seen, 0, sizeof g_host_seen);
    memset(&g_device_seen, 0, sizeof g_device_seen);
    wb_dist_use_module(&g_mpi);
    wb_grad_sync sync = {.bucket_mb = 0};
    wb_tape *tape = &e.c.tape;
    char err[256] = "";
    ck_assert_int_eq(wb_grad_sync_begin(&sync, e.s, &tape, 1, err, sizeof err), WB_OK);
    ck_assert_ptr_null(sync.buckets[0].device);
    ck_assert_int_eq(wb_grad_sync_launch_rest(&sync, err, sizeof err), WB_OK);
    ck_assert_int_eq(wb_grad_sync_finish(&sync, err, sizeof err), WB_OK);
    ck_assert_int_eq(g_host_seen.n, 5);
    ck_assert_int_eq(g_device_seen.isums, 0);
    wb_grad_sync_free(&sync);
    wb_dist_use_module(NULL);
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("dist_device_sums");
    TCase *t = tcase_create("core");
    tcase_add_test(t, nccl_only_for_cuda_with_several_ranks);
    tcase_add_test(t, opening_the_nccl_module);
    tcase_add_test(t, gradient_buckets_on_the_device_table);
    tcase_add_test(t, without_nccl_the_bucket_is_one_host_buffer);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
