/* The threaded loader on an in-memory fake dataset: determinism across
 * worker counts, shuffling, drop_last, aspect grouping, collation, bad
 * samples (skip and record / fail), clean shutdown, data_time. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libconfig.h>
#include "config/params.h"
#include "data/loader.h"
#include "wbtest.h"

/* Item i: a (40 + 7i % 50) x (30 + 13i % 40) image whose pixels encode i,
 * one box, label i % 3. Items listed in `bad` fail in get(). */
typedef struct fake_ds {
    int64_t n;
    const int64_t *bad;
    int n_bad;
    int sleep_ms;
} fake_ds;

static int fake_w(int64_t i) { return 40 + (int)(7 * i % 50); }
static int fake_h(int64_t i) { return 30 + (int)(13 * i % 40); }

static int64_t fake_length(void *ds) { return ((fake_ds *)ds)->n; }

static wb_status fake_get(void *dsp, wb_ctx *ctx, int64_t i, wb_sample *s) {
    fake_ds *ds = dsp;
    for (int k = 0; k < ds->n_bad; k++)
        if (ds->bad[k] == i) return ctx->host->set_error(ctx, WB_ERR_IO, "fake item %lld is broken", (long long)i);
    if (ds->sleep_ms) nanosleep(&(struct timespec){0, ds->sleep_ms * 1000000L}, NULL);
    int w = fake_w(i), h = fake_h(i);
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int k = 0; k < w * h * 3; k++) px[k] = (uint8_t)(i * 31 + k);
    float *box = malloc(4 * sizeof *box);
    box[0] = 2, box[1] = 3, box[2] = (float)w - 5, box[3] = (float)h - 4;
    int *label = malloc(sizeof *label);
    *label = (int)(i % 3);
    *s = (wb_sample){.struct_size = sizeof *s, .pixels = px, .width = w, .height = h, .num_boxes = 1,
                     .boxes = box, .labels = label, .image_id = 1000 + i};
    return WB_OK;
}

static void fake_release(void *ds, wb_sample *s) {
    (void)ds;
    free((void *)s->pixels);
    free(s->boxes);
    free(s->labels);
}

static const wb_dataset_vtable fake_vt = {.struct_size = sizeof(wb_dataset_vtable),
                                          .length = fake_length,
                                          .get = fake_get,
                                          .release_sample = fake_release};

static int thread_count(void) {
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static wb_loader_opts base_opts(int batch, int workers) {
    return (wb_loader_opts){.batch_size = batch, .workers = workers, .shuffle = true, .size_divisor = 32,
                            .seed = 42, .max_epochs = 1};
}

static wb_loader *make(const wb_loader_opts *o, fake_ds *ds) {
    char err[512];
    wb_loader *l = wb_loader_create(o, &fake_vt, ds, err, sizeof err);
    ck_assert_msg(l != NULL, "%s", err);
    return l;
}

/* Dataset indices of one epoch's batches, in order; returns the count. */
static int epoch_indices(wb_loader *l, int64_t *out, int max, int *n_batches) {
    int n = 0;
    *n_batches = 0;
    wb_batch *b;
    while (wb_loader_next(l, &b) == WB_OK && b) {
        for (int i = 0; i < b->n && n < max; i++) out[n++] = b->info[i].index;
        (*n_batches)++;
        wb_loader_release(l, b);
    }
    return n;
}

START_TEST(shuffle_is_a_permutation_per_epoch) {
    fake_ds ds = {.n = 20};
    wb_loader_opts o = base_opts(3, 2);
    o.max_epochs = 2;
    wb_loader *l = make(&o, &ds);
    int64_t idx[40];
    int n = 0, nb = 0;
    wb_batch *b;
    while (wb_loader_next(l, &b) == WB_OK && b) {
        ck_assert_int_eq(b->epoch, nb / 7);
        ck_assert_int_eq(b->iter, nb % 7);
        ck_assert(b->last_in_epoch == (nb % 7 == 6));
        for (int i = 0; i < b->n; i++) idx[n++] = b->info[i].index;
        nb++;
        wb_loader_release(l, b);
    }
    ck_assert_int_eq(nb, 14);
    ck_assert_int_eq(n, 40);
    for (int e = 0; e < 2; e++) {
        int seen[20] = {0};
        for (int i = 0; i < 20; i++) seen[idx[20 * e + i]]++;
        for (int i = 0; i < 20; i++) ck_assert_msg(seen[i] == 1, "epoch %d: index %d seen %d times", e, i, seen[i]);
    }
    ck_assert_msg(memcmp(idx, idx + 20, 20 * sizeof *idx) != 0, "two epochs in the same order");
    int identity = 1;
    for (int i = 0; i < 20; i++) identity &= idx[i] == i;
    ck_assert_msg(!identity, "shuffle = true left the order unchanged");
    wb_loader_destroy(l);

    o.shuffle = false, o.max_epochs = 1;
    l = make(&o, &ds);
    ck_assert_int_eq(epoch_indices(l, idx, 40, &nb), 20);
    for (int i = 0; i < 20; i++) ck_assert_int_eq(idx[i], i);
    wb_loader_destroy(l);
}
END_TEST

START_TEST(drop_last_counts) {
    fake_ds ds = {.n = 20};
    int64_t idx[40];
    int nb;
    wb_loader_opts o = base_opts(3, 2);
    o.drop_last = true;
    wb_loader *l = make(&o, &ds);
    ck_assert_int_eq(wb_loader_batches_per_epoch(l), 6);
    ck_assert_int_eq(epoch_indices(l, idx, 40, &nb), 18);
    ck_assert_int_eq(nb, 6);
    wb_loader_destroy(l);
    o.drop_last = false;
    l = make(&o, &ds);
    ck_assert_int_eq(wb_loader_batches_per_epoch(l), 7);
    ck_assert_int_eq(epoch_indices(l, idx, 40, &nb), 20);
    wb_loader_destroy(l);
    /* too few samples for one full batch is an error at creation */
    fake_ds tiny = {.n = 2};
    char err[256];
    o.drop_last = true;
    ck_assert_ptr_null(wb_loader_create(&o, &fake_vt, &tiny, err, sizeof err));
    ck_assert_msg(strstr(err, "drop_last") != NULL, "%s", err);
}
END_TEST

START_TEST(aspect_grouping_keeps_batches_uniform) {
    fake_ds ds = {.n = 30};
    wb_loader_opts o = base_opts(4, 2);
    o.group_by_aspect = true;
    wb_loader *l = make(&o, &ds);
    int landscape = 0;
    for (int64_t i = 0; i < 30; i++) landscape += fake_w(i) > fake_h(i);
    int64_t expect = (landscape + 3) / 4 + (30 - landscape + 3) / 4;
    ck_assert_int_eq(wb_loader_batches_per_epoch(l), expect);
    wb_batch *b;
    int total = 0;
    while (wb_loader_next(l, &b) == WB_OK && b) {
        for (int i = 1; i < b->n; i++) {
            int64_t a = b->info[0].index, c = b->info[i].index;
            ck_assert_msg((fake_w(a) > fake_h(a)) == (fake_w(c) > fake_h(c)), "items %lld and %lld mixed",
                          (long long)a, (long long)c);
        }
        total += b->n;
        wb_loader_release(l, b);
    }
    ck_assert_int_eq(total, 30);
    wb_loader_destroy(l);
}
END_TEST

/* Collation: padding to the largest image rounded to 32, CHW copy of the
 * pixels, zeros outside, ground truth per image. No pipeline here, so the
 * pixels are the fake's own. */
START_TEST(collate_pads_and_copies) {
    fake_ds ds = {.n = 5};
    wb_loader_opts o = base_opts(5, 1);
    o.shuffle = false;
    wb_loader *l = make(&o, &ds);
    wb_batch *b;
    ck_assert(wb_loader_next(l, &b) == WB_OK && b);
    int max_h = 0, max_w = 0;
    for (int i = 0; i < 5; i++) {
        if (fake_h(i) > max_h) max_h = fake_h(i);
        if (fake_w(i) > max_w) max_w = fake_w(i);
    }
    ck_assert_int_eq(b->pad_h, (max_h + 31) / 32 * 32);
    ck_assert_int_eq(b->pad_w, (max_w + 31) / 32 * 32);
    ck_assert(b->truth.batch == 5 && b->truth.images == b->gt && b->truth.pad_h == b->pad_h);
    for (int i = 0; i < 5; i++) {
        int w = fake_w(i), h = fake_h(i);
        const wb_gt_image *g = &b->gt[i];
        ck_assert(g->img_w == w && g->img_h == h && g->ori_w == w && g->ori_h == h);
        ck_assert(g->scale_x == 1.0f && g->image_id == 1000 + i && g->num_boxes == 1 && g->labels[0] == i % 3);
        ck_assert(g->boxes[2] == (float)w - 5);
        const float *img = b->images + (size_t)i * 3 * b->pad_h * b->pad_w;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < b->pad_h; y++)
                for (int x = 0; x < b->pad_w; x++) {
                    float v = img[((size_t)c * b->pad_h + y) * b->pad_w + x];
                    float want = y < h && x < w ? (float)(uint8_t)(i * 31 + (y * w + x) * 3 + c) : 0.0f;
                    ck_assert_msg(v == want, "image %d c%d (%d,%d): %g, expected %g", i, c, y, x, v, want);
                }
    }
    wb_loader_release(l, b);
    wb_loader_destroy(l);
}
END_TEST

/* Same seed, 1 and 4 workers: bitwise identical batches through random
 * pipelines, the mmdet one (resize, flip, photometric, normalize), the
 * YOLO one (letterbox, mosaic pulling other samples, affine, HSV, flip) and
 * the YOLO one with mixup (always, of another mosaic) and multi-scale. */
static wb_pipeline *test_pipeline(int kind) {
    char err[512];
    wb_pipeline *p = wb_pipeline_empty();
    static const char *mmdet[] = {"resize", "random_flip", "photometric_distortion", "normalize", NULL};
    static const char *yolo_steps[] = {"mosaic", "random_affine", "yolo_hsv", "random_flip", NULL};
    if (kind > 0) {
        /* small sizes keep the test fast: 64-px tiles */
        config_t *cfg = malloc(sizeof *cfg);
        config_init(cfg);
        ck_assert(config_read_string(cfg, "size = [64, 64]; degrees = 5.0; prob = 1.0; "
                                          "scales = [64, 64]; ratio_range = [0.5, 1.5]; size_step = 32; keep_ratio = false;"));
        const wb_params *sz = wb_params_of(config_root_setting(cfg));
        ck_assert(wb_pipeline_add(p, "letterbox", sz, err, sizeof err) == WB_OK);
        for (int i = 0; yolo_steps[i]; i++)
            ck_assert_msg(wb_pipeline_add(p, yolo_steps[i], i < 2 ? sz : NULL, err, sizeof err) == WB_OK, "%s", err);
        if (kind == 2) {
            ck_assert_msg(wb_pipeline_add(p, "mixup", sz, err, sizeof err) == WB_OK, "%s", err);
            ck_assert_msg(wb_pipeline_add(p, "random_resize", sz, err, sizeof err) == WB_OK, "%s", err);
        }
        config_destroy(cfg); /* steps copied what they read */
        free(cfg);
        return p;
    }
    for (int i = 0; mmdet[i]; i++) ck_assert(wb_pipeline_add(p, mmdet[i], NULL, err, sizeof err) == WB_OK);
    return p;
}

START_TEST(determinism_across_worker_counts) {
    wb_pipeline *p = test_pipeline(_i);
    fake_ds ds = {.n = 12};
    wb_loader_opts o = base_opts(2, 1);
    o.max_epochs = 2;
    o.pipeline = p;
    o.prefetch = 3;
    wb_loader *one = make(&o, &ds);
    o.workers = 4, o.prefetch = 6;
    wb_loader *four = make(&o, &ds);
    int batches = 0, flips = 0;
    for (;;) {
        wb_batch *a, *b;
        ck_assert(wb_loader_next(one, &a) == WB_OK);
        ck_assert(wb_loader_next(four, &b) == WB_OK);
        ck_assert((a == NULL) == (b == NULL));
        if (!a) break;
        ck_assert(a->n == b->n && a->pad_h == b->pad_h && a->pad_w == b->pad_w && a->epoch == b->epoch);
        ck_assert(memcmp(a->images, b->images, (size_t)a->n * 3 * a->pad_h * a->pad_w * sizeof(float)) == 0);
        for (int i = 0; i < a->n; i++) {
            ck_assert(a->info[i].index == b->info[i].index && a->gt[i].num_boxes == b->gt[i].num_boxes);
            ck_assert(memcmp(a->gt[i].boxes, b->gt[i].boxes, (size_t)a->gt[i].num_boxes * 4 * sizeof(float)) == 0);
            flips += a->info[i].flip_h;
        }
        batches++;
        wb_loader_release(one, a);
        wb_loader_release(four, b);
    }
    ck_assert_int_eq(batches, 12);
    ck_assert_msg(flips > 2 && flips < 22, "%d of 24 samples flipped with prob 0.5", flips);
    wb_loader_destroy(one);
    wb_loader_destroy(four);
    wb_pipeline_destroy(p);
}
END_TEST

/* Multi-scale through the loader: every image of a batch has the batch's
 * size, sizes come from the list, several are used, and 1 and 4 workers
 * give the same sizes batch by batch (the bitwise check is above). */
START_TEST(multi_scale_is_per_batch) {
    config_t cfg;
    config_init(&cfg);
    ck_assert(config_read_string(&cfg, "scales = [48, 40, 64, 56, 80, 72]; keep_ratio = false;"));
    char err[512];
    wb_pipeline *p = wb_pipeline_empty();
    ck_assert_msg(wb_pipeline_add(p, "random_resize", wb_params_of(config_root_setting(&cfg)), err, sizeof err) == WB_OK,
                  "%s", err);
    fake_ds ds = {.n = 30};
    wb_loader_opts o = base_opts(3, 1);
    o.pipeline = p, o.size_divisor = 0;
    wb_loader *one = make(&o, &ds);
    o.workers = 4;
    wb_loader *four = make(&o, &ds);
    int used[3] = {0}, batches = 0;
    for (;;) {
        wb_batch *a, *b;
        ck_assert(wb_loader_next(one, &a) == WB_OK && wb_loader_next(four, &b) == WB_OK);
        if (!a || !b) {
            ck_assert(a == b);
            break;
        }
        int w = a->info[0].w, h = a->info[0].h;
        for (int i = 0; i < a->n; i++)
            ck_assert_msg(a->info[i].w == w && a->info[i].h == h && b->info[i].w == w && b->info[i].h == h,
                          "batch %d image %d: %dx%d, batch size %dx%d", batches, i, a->info[i].w, a->info[i].h, w, h);
        int k = w == 48 && h == 40 ? 0 : w == 64 && h == 56 ? 1 : w == 80 && h == 72 ? 2 : -1;
        ck_assert_msg(k >= 0, "%dx%d is not one of the scales", w, h);
        used[k]++, batches++;
        wb_loader_release(one, a);
        wb_loader_release(four, b);
    }
    ck_assert_int_eq(batches, 10);
    ck_assert_msg((used[0] > 0) + (used[1] > 0) + (used[2] > 0) >= 2, "one scale for all 10 batches");
    wb_loader_destroy(one);
    wb_loader_destroy(four);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);
}
END_TEST

START_TEST(bad_samples_skipped_and_recorded) {
    const int64_t bad[] = {3, 7, 8};
    fake_ds ds = {.n = 10, .bad = bad, .n_bad = 3};
    wb_loader_opts o = base_opts(2, 2);
    o.shuffle = false;
    wb_loader *l = make(&o, &ds);
    int64_t idx[20];
    int nb;
    int n = epoch_indices(l, idx, 20, &nb);
    ck_assert_int_eq(n, 7);
    ck_assert_int_eq(nb, 5); /* every batch of {0,1} .. {8,9} keeps at least one good sample */
    for (int i = 0; i < n; i++) ck_assert(idx[i] != 3 && idx[i] != 7 && idx[i] != 8);
    ck_assert_int_eq(wb_loader_bad_sample_count(l), 3);
    for (int k = 0; k < 3; k++) {
        wb_bad_sample s;
        ck_assert(wb_loader_bad_sample_at(l, k, &s));
        ck_assert(s.index == 3 || s.index == 7 || s.index == 8);
        char want[64];
        snprintf(want, sizeof want, "fake item %lld is broken", (long long)s.index);
        ck_assert_msg(strstr(s.message, want) != NULL, "message: %s", s.message);
    }
    wb_loader_destroy(l);

    /* a batch whose samples all fail is skipped, not delivered empty */
    const int64_t pair[] = {2, 3};
    fake_ds ds2 = {.n = 6, .bad = pair, .n_bad = 2};
    l = make(&o, &ds2);
    ck_assert_int_eq(epoch_indices(l, idx, 20, &nb), 4);
    ck_assert_int_eq(nb, 2);
    wb_loader_destroy(l);
}
END_TEST

START_TEST(failing_dataset_stops_cleanly) {
    int threads_before = thread_count();
    const int64_t bad[] = {5};
    fake_ds ds = {.n = 40, .bad = bad, .n_bad = 1};
    wb_loader_opts o = base_opts(2, 3);
    o.shuffle = false;
    o.on_bad_sample = WB_BAD_SAMPLE_FAIL;
    wb_loader *l = make(&o, &ds);
    wb_batch *b;
    wb_status st;
    int delivered = 0;
    while ((st = wb_loader_next(l, &b)) == WB_OK && b) {
        delivered++;
        wb_loader_release(l, b);
    }
    ck_assert_int_eq(st, WB_ERR_IO);
    ck_assert_int_eq(delivered, 2); /* batches {0,1} and {2,3}; {4,5} fails */
    ck_assert_msg(strstr(wb_loader_error(l), "sample 5") && strstr(wb_loader_error(l), "fake item 5 is broken"),
                  "%s", wb_loader_error(l));
    ck_assert_int_eq(wb_loader_next(l, &b), WB_ERR_IO); /* the error stays */
    wb_loader_destroy(l);
    ck_assert_int_eq(thread_count(), threads_before);
}
END_TEST

/* Early stop: destroy while workers are blocked on a full ring and while the
 * trainer still holds a batch, with endless epochs. No hang, no thread left. */
START_TEST(early_stop_joins_workers) {
    int threads_before = thread_count();
    fake_ds ds = {.n = 50};
    wb_loader_opts o = base_opts(2, 4);
    o.max_epochs = 0;
    wb_loader *l = make(&o, &ds);
    ck_assert_int_eq(thread_count(), threads_before + 4);
    wb_batch *b;
    ck_assert(wb_loader_next(l, &b) == WB_OK && b);
    nanosleep(&(struct timespec){0, 50000000L}, NULL); /* let the ring fill */
    wb_loader_destroy(l);
    ck_assert_int_eq(thread_count(), threads_before);
}
END_TEST

/* data_time is the trainer's wait: with a 30 ms get() and one worker the
 * first batch of 2 takes >= 60 ms; once the ring is full, waits are short. */
START_TEST(data_time_measures_the_wait) {
    fake_ds ds = {.n = 6, .sleep_ms = 30};
    wb_loader_opts o = base_opts(2, 1);
    o.prefetch = 3;
    wb_loader *l = make(&o, &ds);
    wb_batch *b;
    ck_assert(wb_loader_next(l, &b) == WB_OK && b);
    ck_assert_msg(b->data_time >= 0.055, "first batch data_time %.3f s", b->data_time);
    wb_loader_release(l, b);
    nanosleep(&(struct timespec){0, 300000000L}, NULL); /* the rest is loaded meanwhile */
    ck_assert(wb_loader_next(l, &b) == WB_OK && b);
    ck_assert_msg(b->data_time < 0.02, "prefetched batch data_time %.3f s", b->data_time);
    wb_loader_release(l, b);
    wb_loader_destroy(l);
}
END_TEST

int main(void) {
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("loader");
    tcase_set_timeout(tc, 30); /* a hang in shutdown fails the test instead of stalling CI */
    tcase_add_test(tc, shuffle_is_a_permutation_per_epoch);
    tcase_add_test(tc, drop_last_counts);
    tcase_add_test(tc, aspect_grouping_keeps_batches_uniform);
    tcase_add_test(tc, collate_pads_and_copies);
    tcase_add_loop_test(tc, determinism_across_worker_counts, 0, 3);
    tcase_add_test(tc, multi_scale_is_per_batch);
    tcase_add_test(tc, bad_samples_skipped_and_recorded);
    tcase_add_test(tc, failing_dataset_stops_cleanly);
    tcase_add_test(tc, early_stop_joins_workers);
    tcase_add_test(tc, data_time_measures_the_wait);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
