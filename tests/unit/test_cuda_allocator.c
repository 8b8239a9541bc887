/* The CUDA backend's caching allocator (core/backends/cuda/cuda_allocator.c)
 * on a host mock of the device: addresses from a counter (never touched),
 * a capacity, and counts of mallocs, frees and synchronisations. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "backends/cuda/cuda_allocator.h"
#include "wbtest.h"

#define MiB ((size_t)1 << 20)
#define MOCK_MAX 64

typedef struct mock_device {
    size_t capacity, used;
    uintptr_t next_addr;
    void *live[MOCK_MAX];
    size_t live_size[MOCK_MAX];
    int n_live, mallocs, frees, syncs;
} mock_device;

static void *mock_malloc(void *ctx, size_t bytes) {
    mock_device *d = ctx;
    if (d->used + bytes > d->capacity || d->n_live == MOCK_MAX) return NULL;
    void *p = (void *)d->next_addr;
    d->next_addr += bytes + 4096; /* a gap: segments are never adjacent */
    d->live[d->n_live] = p;
    d->live_size[d->n_live++] = bytes;
    d->used += bytes;
    d->mallocs++;
    return p;
}

static void mock_free(void *ctx, void *ptr) {
    mock_device *d = ctx;
    for (int i = 0; i < d->n_live; i++)
        if (d->live[i] == ptr) {
            d->used -= d->live_size[i];
            d->live[i] = d->live[--d->n_live];
            d->live_size[i] = d->live_size[d->n_live];
            d->frees++;
            return;
        }
    ck_abort_msg("the allocator freed %p, which the device never gave it", ptr);
}

static void mock_sync(void *ctx) { ((mock_device *)ctx)->syncs++; }

static mock_device g_dev;
static wb_cuda_allocator *g_a;

static wb_cuda_allocator *make(size_t capacity, size_t limit) {
    g_dev = (mock_device){ .capacity = capacity, .next_addr = (uintptr_t)1 << 40 };
    wb_cuda_device_ops ops = { &g_dev, mock_malloc, mock_free, mock_sync };
    g_a = wb_cuda_allocator_create(&ops, limit);
    ck_assert_ptr_nonnull(g_a);
    return g_a;
}

static void teardown(void) {
    wb_cuda_allocator_destroy(g_a);
    g_a = NULL;
    ck_assert_int_eq(g_dev.n_live, 0); /* destroy gives every segment back */
}

/* One "training step": the sizes a small detector allocates (activations of
 * several scales, gradients, a workspace), freed in another order. */
static void step(wb_cuda_allocator *a) {
    static const size_t sizes[] = { 37 * MiB, 3 * MiB + 17, 1000, 9 * MiB, 600 * 1024, 64, 12 * MiB, 5 * MiB,
                                    200 * 1024, 33 * MiB, 1 * MiB, 7777 };
    enum { N = sizeof sizes / sizeof sizes[0] };
    void *p[N];
    for (int i = 0; i < N; i++) ck_assert_ptr_nonnull(p[i] = wb_cuda_allocator_alloc(a, sizes[i]));
    for (int i = 0; i < N; i += 2) ck_assert(wb_cuda_allocator_free(a, p[i]));
    void *again = wb_cuda_allocator_alloc(a, 4 * MiB); /* mid-step temporary in the holes */
    ck_assert_ptr_nonnull(again);
    ck_assert(wb_cuda_allocator_free(a, again));
    for (int i = N - 1; i > 0; i -= 2) ck_assert(wb_cuda_allocator_free(a, p[i]));
}

START_TEST(test_reuse_after_warmup) {
    wb_cuda_allocator *a = make((size_t)1 << 40, 0);
    step(a);
    step(a);
    int warm = g_dev.mallocs;
    for (int i = 0; i < 20; i++) step(a);
    wb_cuda_alloc_stats st = wb_cuda_allocator_stats(a);
    ck_assert_int_eq((int)st.device_mallocs, warm);
    ck_assert_int_eq(g_dev.mallocs, warm);
    ck_assert_int_eq(g_dev.frees, 0);
    ck_assert_uint_eq(st.allocated, 0);
    ck_assert_uint_eq(st.cached, st.reserved);
    ck_assert_uint_eq(st.reserved, g_dev.used);
    ck_assert_uint_ge(st.peak_allocated, 37 * MiB + 33 * MiB + 12 * MiB);
}
END_TEST

START_TEST(test_size_classes) {
    wb_cuda_allocator *a = make((size_t)1 << 40, 0);
    char *z = wb_cuda_allocator_alloc(a, 0), *one = wb_cuda_allocator_alloc(a, 1);
    /* both round to 512 bytes, cut from one 2 MiB small segment */
    ck_assert_ptr_nonnull(z);
    ck_assert_ptr_ne(z, one);
    ck_assert_int_eq((int)(one - z), 512);
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).allocated, 1024);
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).reserved, 2 * MiB);
    ck_assert_ptr_nonnull(wb_cuda_allocator_alloc(a, MiB)); /* still small: the same segment */
    ck_assert_int_eq(g_dev.mallocs, 1);
    ck_assert_ptr_nonnull(wb_cuda_allocator_alloc(a, MiB + 1)); /* medium: a 20 MiB segment */
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).reserved, 22 * MiB);
    ck_assert_ptr_nonnull(wb_cuda_allocator_alloc(a, 13 * MiB)); /* fits in that segment's rest */
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).reserved, 22 * MiB);
    ck_assert_ptr_nonnull(wb_cuda_allocator_alloc(a, 17 * MiB)); /* large: its own segment, rounded to 2 MiB */
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).reserved, 40 * MiB);
    /* 11 MiB: a 12 MiB segment whose 1 MiB rest is too small to split off in the large pool */
    void *p = wb_cuda_allocator_alloc(a, 11 * MiB);
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).reserved, 52 * MiB);
    size_t before = wb_cuda_allocator_stats(a).allocated;
    ck_assert(wb_cuda_allocator_free(a, p));
    ck_assert_uint_eq(before - wb_cuda_allocator_stats(a).allocated, 12 * MiB);
    ck_assert_int_eq(g_dev.mallocs, 4);
}
END_TEST

START_TEST(test_split_and_merge) {
    wb_cuda_allocator *a = make((size_t)1 << 40, 0);
    char *p1 = wb_cuda_allocator_alloc(a, 4 * MiB), *p2 = wb_cuda_allocator_alloc(a, 4 * MiB),
         *p3 = wb_cuda_allocator_alloc(a, 4 * MiB);
    ck_assert_int_eq(g_dev.mallocs, 1); /* all three from one 20 MiB segment */
    ck_assert_ptr_eq(p2, p1 + 4 * MiB);
    ck_assert_ptr_eq(p3, p2 + 4 * MiB);
    ck_assert(wb_cuda_allocator_free(a, p2));
    ck_assert(wb_cuda_allocator_free(a, p1));
    /* p1 and p2 merged: an 8 MiB request fits where they were, best fit before the 8 MiB tail */
    ck_assert_ptr_eq(wb_cuda_allocator_alloc(a, 8 * MiB), p1);
    ck_assert_int_eq(g_dev.mallocs, 1);
    ck_assert(wb_cuda_allocator_free(a, p1));
    ck_assert(wb_cuda_allocator_free(a, p3));
    /* everything merged back into the whole segment, which the release gives back */
    ck_assert_ptr_eq(wb_cuda_allocator_alloc(a, 20 * MiB), p1);
    ck_assert(wb_cuda_allocator_free(a, p1));
    wb_cuda_allocator_release_cached(a);
    ck_assert_int_eq(g_dev.frees, 1);
    ck_assert_int_eq(g_dev.syncs, 1); /* queued launches may still use cached memory */
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).reserved, 0);
}
END_TEST

START_TEST(test_limit) {
    wb_cuda_allocator *a = make((size_t)1 << 40, 64 * MiB);
    void *p1 = wb_cuda_allocator_alloc(a, 30 * MiB), *p2 = wb_cuda_allocator_alloc(a, 30 * MiB);
    ck_assert_ptr_nonnull(p1);
    ck_assert_ptr_nonnull(p2);
    ck_assert_ptr_null(wb_cuda_allocator_alloc(a, 30 * MiB)); /* 90 MiB > 64 MiB, nothing cached to release */
    wb_cuda_alloc_stats st = wb_cuda_allocator_stats(a);
    ck_assert_uint_eq(st.failures, 1);
    ck_assert_uint_eq(st.allocated, 60 * MiB);
    ck_assert_int_eq(g_dev.mallocs, 2);
    /* a medium request takes its exact size when a whole 20 MiB segment would pass the limit */
    ck_assert_ptr_nonnull(wb_cuda_allocator_alloc(a, 3 * MiB));
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).reserved, 64 * MiB);
}
END_TEST

START_TEST(test_release_and_retry_when_device_is_full) {
    wb_cuda_allocator *a = make(64 * MiB, 0);
    void *p = wb_cuda_allocator_alloc(a, 40 * MiB);
    ck_assert(wb_cuda_allocator_free(a, p)); /* 40 MiB cached, 24 MiB left on the device */
    void *q = wb_cuda_allocator_alloc(a, 50 * MiB);
    ck_assert_ptr_nonnull(q);
    wb_cuda_alloc_stats st = wb_cuda_allocator_stats(a);
    ck_assert_uint_eq(st.releases, 1);
    ck_assert_uint_eq(st.device_frees, 1);
    ck_assert_uint_eq(st.reserved, 50 * MiB);
    ck_assert_uint_eq(st.failures, 0);
    ck_assert_int_ge(g_dev.syncs, 1);
    /* a live block is never released: 20 more MiB cannot be had */
    ck_assert_ptr_null(wb_cuda_allocator_alloc(a, 20 * MiB));
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).allocated, 50 * MiB);
}
END_TEST

START_TEST(test_fragmentation) {
    wb_cuda_allocator *a = make((size_t)1 << 40, 0);
    enum { N = 4096 }; /* 4096 x 512 B fill one 2 MiB small segment */
    void **p = malloc(N * sizeof *p);
    for (int i = 0; i < N; i++) ck_assert_ptr_nonnull(p[i] = wb_cuda_allocator_alloc(a, 512));
    ck_assert_int_eq(g_dev.mallocs, 1);
    for (int i = 0; i < N; i += 2) ck_assert(wb_cuda_allocator_free(a, p[i]));
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).cached, MiB);
    /* 1 MiB is free, but in 512-byte holes: a 1 KiB request needs a new segment */
    void *big = wb_cuda_allocator_alloc(a, 1024);
    ck_assert_int_eq(g_dev.mallocs, 2);
    ck_assert(wb_cuda_allocator_free(a, big));
    for (int i = 1; i < N; i += 2) ck_assert(wb_cuda_allocator_free(a, p[i]));
    /* the holes merged back: both segments are whole and go back to the device */
    wb_cuda_allocator_release_cached(a);
    ck_assert_int_eq(g_dev.frees, 2);
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).reserved, 0);
    free(p);
}
END_TEST

START_TEST(test_settled) {
    wb_cuda_allocator *a = make((size_t)1 << 40, 0);
    char *p = wb_cuda_allocator_alloc(a, 4096);
    ck_assert(wb_cuda_allocator_settled(a, p)); /* fresh device memory */
    ck_assert(!wb_cuda_allocator_settled(a, p + 512)); /* inside a block: unknown, so not settled */
    ck_assert(wb_cuda_allocator_free(a, p));
    char *q = wb_cuda_allocator_alloc(a, 4096);
    ck_assert_ptr_eq(q, p);
    ck_assert(!wb_cuda_allocator_settled(a, q)); /* launches before the free may still use it */
    wb_cuda_allocator_settle(a);
    ck_assert(wb_cuda_allocator_settled(a, q));
    ck_assert(!wb_cuda_allocator_settled(a, (void *)0x1000));
}
END_TEST

START_TEST(test_foreign_pointers) {
    wb_cuda_allocator *a = make((size_t)1 << 40, 0);
    char *p = wb_cuda_allocator_alloc(a, 100);
    ck_assert(wb_cuda_allocator_free(a, NULL));
    ck_assert(!wb_cuda_allocator_free(a, p + 512));
    ck_assert(!wb_cuda_allocator_free(a, (void *)0x1000));
    ck_assert_uint_eq(wb_cuda_allocator_stats(a).allocated, 512);
    ck_assert(wb_cuda_allocator_free(a, p));
    ck_assert(!wb_cuda_allocator_free(a, p)); /* a second free is refused */
    ck_assert_ptr_null(wb_cuda_allocator_alloc(a, SIZE_MAX)); /* no overflow in the rounding */
    char msg[256];
    wb_cuda_allocator_describe(a, msg, sizeof msg);
    ck_assert_str_eq(msg, "allocated 0.0 MiB, cached 2.0 MiB, peak 0.0 MiB, no limit but the device's, "
                          "1 device mallocs");
}
END_TEST

int main(void) {
    Suite *s = suite_create("cuda_allocator");
    TCase *t = tcase_create("allocator");
    tcase_add_checked_fixture(t, NULL, teardown);
    tcase_add_test(t, test_reuse_after_warmup);
    tcase_add_test(t, test_size_classes);
    tcase_add_test(t, test_split_and_merge);
    tcase_add_test(t, test_limit);
    tcase_add_test(t, test_release_and_retry_when_device_is_full);
    tcase_add_test(t, test_fragmentation);
    tcase_add_test(t, test_settled);
    tcase_add_test(t, test_foreign_pointers);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
