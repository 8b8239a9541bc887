/* The data-parallel sampler (PyTorch's DistributedSampler semantics): every
 * rank the same number of batches, every item once per epoch across the
 * ranks with the padding counted, the ranks' batch k together the batch k of
 * one process with the total batch, the order a function of seed and epoch
 * only; drop_last cuts instead of padding; evaluation's uneven shards hold
 * every item exactly once; a mid-epoch resume with other ranks; rect's whole
 * batches and image weights' draws dealt out. */
#include <stdlib.h>
#include <string.h>
#include "data/sampler.h"
#include "wbtest.h"

#define MAX_ITEMS 64

/* How often each item occurs over every rank's plan of `epoch`; the batches per rank in *nb. */
static int64_t count_items(wb_sampler_opts o, int world, int64_t epoch, int *seen, int64_t *nb) {
    memset(seen, 0, MAX_ITEMS * sizeof *seen);
    int64_t total = 0;
    o.world = world;
    for (int r = 0; r < world; r++) {
        o.rank = r;
        wb_epoch_plan p;
        ck_assert_int_eq(wb_sampler_plan(&o, epoch, &p), WB_OK);
        ck_assert_int_eq(p.n_batches, wb_sampler_batches(&o));
        if (r == 0) *nb = p.n_batches;
        ck_assert_msg(p.n_batches == *nb, "rank %d has %lld batches, rank 0 %lld", r, (long long)p.n_batches,
                      (long long)*nb);
        for (int64_t k = 0; k < p.starts[p.n_batches]; k++) seen[p.order[k]]++;
        total += p.starts[p.n_batches];
        wb_epoch_plan_free(&p);
    }
    return total;
}

START_TEST(test_every_item_once_per_epoch_with_padding_counted) {
    const int64_t sizes[] = {10, 11, 16, 5};
    const int worlds[] = {2, 3, 4};
    int seen[MAX_ITEMS];
    for (int i = 0; i < 4; i++)
        for (int w = 0; w < 3; w++)
            for (int64_t epoch = 0; epoch < 3; epoch++) {
                int64_t n = sizes[i], world = worlds[w], nb;
                wb_sampler_opts o = {.n_items = n, .batch_size = 2, .shuffle = true, .seed = 7};
                int64_t padded = (n + world - 1) / world * world;
                ck_assert_int_eq(count_items(o, (int)world, epoch, seen, &nb), padded);
                int64_t twice = 0;
                for (int64_t k = 0; k < n; k++) {
                    ck_assert_msg(seen[k] >= 1 && seen[k] <= 2, "item %lld seen %d times (n %lld, world %lld)",
                                  (long long)k, seen[k], (long long)n, (long long)world);
                    twice += seen[k] == 2;
                }
                ck_assert_int_eq(twice, padded - n); /* the padding, and nothing else, repeats */
                o.drop_last = true;
                /* a shard of n / world items, cut into whole batches of 2 */
                ck_assert_int_eq(count_items(o, (int)world, epoch, seen, &nb), world * (n / world / 2 * 2));
                for (int64_t k = 0; k < n; k++) ck_assert_int_le(seen[k], 1);
            }
}
END_TEST

/* 2 ranks x batch 2 hold, step by step, what 1 process x batch 4 holds. */
START_TEST(test_ranks_batches_together_are_the_total_batch) {
    wb_sampler_opts one = {.n_items = 16, .batch_size = 4, .shuffle = true, .seed = 3};
    wb_epoch_plan whole, part[2];
    ck_assert_int_eq(wb_sampler_plan(&one, 5, &whole), WB_OK);
    for (int r = 0; r < 2; r++) {
        wb_sampler_opts o = {.n_items = 16, .batch_size = 2, .shuffle = true, .seed = 3, .rank = r, .world = 2};
        ck_assert_int_eq(wb_sampler_plan(&o, 5, &part[r]), WB_OK);
        ck_assert_int_eq(part[r].n_batches, whole.n_batches);
    }
    for (int64_t b = 0; b < whole.n_batches; b++) {
        int64_t mine[4], theirs[4];
        for (int j = 0; j < 4; j++) mine[j] = whole.order[whole.starts[b] + j];
        for (int r = 0; r < 2; r++)
            for (int j = 0; j < 2; j++) theirs[2 * r + j] = part[r].order[part[r].starts[b] + j];
        /* round-robin: rank r has positions r, r + 2 of the total batch */
        ck_assert_int_eq(theirs[0], mine[0]);
        ck_assert_int_eq(theirs[1], mine[2]);
        ck_assert_int_eq(theirs[2], mine[1]);
        ck_assert_int_eq(theirs[3], mine[3]);
    }
    wb_epoch_plan_free(&whole), wb_epoch_plan_free(&part[0]), wb_epoch_plan_free(&part[1]);
}
END_TEST

START_TEST(test_order_depends_on_seed_and_epoch_only) {
    wb_sampler_opts o = {.n_items = 40, .batch_size = 3, .shuffle = true, .seed = 11, .rank = 1, .world = 3};
    wb_epoch_plan a, b, c;
    ck_assert_int_eq(wb_sampler_plan(&o, 2, &a), WB_OK);
    ck_assert_int_eq(wb_sampler_plan(&o, 2, &b), WB_OK);
    ck_assert_int_eq(wb_sampler_plan(&o, 3, &c), WB_OK);
    ck_assert_int_eq(a.starts[a.n_batches], 14);
    ck_assert(memcmp(a.order, b.order, 14 * sizeof *a.order) == 0);
    ck_assert(memcmp(a.order, c.order, 14 * sizeof *a.order) != 0);
    wb_epoch_plan_free(&a), wb_epoch_plan_free(&b), wb_epoch_plan_free(&c);
}
END_TEST

/* Evaluation: in order, nothing padded, shards of 4, 4 and 3 of 11 items. */
START_TEST(test_uneven_shards_hold_every_item_exactly_once) {
    int seen[MAX_ITEMS];
    int64_t nb;
    wb_sampler_opts o = {.n_items = 11, .batch_size = 2, .uneven = true};
    ck_assert_int_eq(count_items(o, 1, 0, seen, &nb), 11);
    memset(seen, 0, sizeof seen);
    int64_t total = 0;
    for (int r = 0; r < 3; r++) {
        o.rank = r, o.world = 3;
        wb_epoch_plan p;
        ck_assert_int_eq(wb_sampler_plan(&o, 0, &p), WB_OK);
        ck_assert_int_eq(p.starts[p.n_batches], r < 2 ? 4 : 3);
        for (int64_t k = 0; k < p.starts[p.n_batches]; k++) {
            ck_assert_int_eq(p.order[k], r + 3 * k);
            seen[p.order[k]]++;
        }
        total += p.starts[p.n_batches];
        wb_epoch_plan_free(&p);
    }
    ck_assert_int_eq(total, 11);
    for (int k = 0; k < 11; k++) ck_assert_int_eq(seen[k], 1);
}
END_TEST

/* Counts the items of batches [from, to) of every rank's plan of `epoch` (world ranks x batch b) into seen. */
static void count_batches(int64_t n, int world, int b, int64_t epoch, int64_t from, int64_t to, int *seen) {
    for (int r = 0; r < world; r++) {
        wb_sampler_opts o = {.n_items = n, .batch_size = b, .shuffle = true, .seed = 11, .rank = r, .world = world};
        wb_epoch_plan p;
        ck_assert_int_eq(wb_sampler_plan(&o, epoch, &p), WB_OK);
        int64_t end = to < p.n_batches ? to : p.n_batches;
        for (int64_t k = from < end ? p.starts[from] : 0; from < end && k < p.starts[end]; k++) seen[p.order[k]]++;
        wb_epoch_plan_free(&p);
    }
}

/* The trainer's mid-epoch resume with another number of ranks and the same
 * total batch (trainer.c, reshard): the writer's first k batches and the
 * new run's batches from k on see every item of the epoch, and repeat
 * nothing but padding (at most world - 1 repeats, at the epoch's end). */
START_TEST(test_resume_mid_epoch_with_other_ranks_sees_every_item_once) {
    const struct { int from_world, from_batch, to_world, to_batch; } cases[] = {
        {2, 2, 1, 4}, {1, 4, 2, 2}, {2, 3, 3, 2}, {4, 1, 2, 2}};
    const int64_t sizes[] = {13, 16, 7};
    for (int c = 0; c < 4; c++)
        for (int i = 0; i < 3; i++) {
            int64_t n = sizes[i], total = cases[c].from_world * cases[c].from_batch;
            int64_t per_epoch = (n + total - 1) / total;
            for (int64_t k = 1; k < per_epoch; k++) {
                int seen[MAX_ITEMS] = {0};
                count_batches(n, cases[c].from_world, cases[c].from_batch, 4, 0, k, seen);
                count_batches(n, cases[c].to_world, cases[c].to_batch, 4, k, per_epoch, seen);
                int64_t repeats = 0;
                for (int64_t item = 0; item < n; item++) {
                    ck_assert_msg(seen[item] >= 1, "case %d, n %lld, resumed after %lld: item %lld never seen", c,
                                  (long long)n, (long long)k, (long long)item);
                    repeats += seen[item] - 1;
                }
                /* the new run's padding to a multiple of its ranks, and only that */
                int64_t w = cases[c].to_world;
                ck_assert_msg(repeats == (n + w - 1) / w * w - n, "case %d, n %lld, resumed after %lld: %lld repeats",
                              c, (long long)n, (long long)k, (long long)repeats);
            }
        }
}
END_TEST

/* rect under ranks: every rank's batch is a whole batch of the single rect
 * plan (its images and its letterbox shape), rank r has batches r, r + world,
 * ... of it, every rank as many (padded from the plan's first batches), and
 * the plan is the same on every rank (seed and epoch only). */
START_TEST(test_rect_ranks_get_whole_batches_with_their_shapes) {
    int32_t sizes[2 * 23];
    for (int i = 0; i < 23; i++) sizes[2 * i] = 100 + 37 * i % 300, sizes[2 * i + 1] = 80 + 53 * i % 290;
    wb_rect_opts rect = {.sizes = sizes, .img_size = 320, .stride = 32};
    for (int world = 2; world <= 3; world++)
        for (int drop = 0; drop < 2; drop++) {
            wb_sampler_opts one = {.n_items = 23, .batch_size = 4, .shuffle = true, .drop_last = drop, .seed = 5,
                                   .rect = &rect};
            wb_epoch_plan all;
            ck_assert_int_eq(wb_sampler_plan(&one, 2, &all), WB_OK);
            int64_t per_rank = drop ? all.n_batches / world : (all.n_batches + world - 1) / world;
            int used[8] = {0};
            for (int r = 0; r < world; r++) {
                wb_sampler_opts o = one;
                o.rank = r, o.world = world;
                wb_epoch_plan p;
                ck_assert_int_eq(wb_sampler_plan(&o, 2, &p), WB_OK);
                ck_assert_int_eq(p.n_batches, per_rank);
                ck_assert_int_eq(wb_sampler_batches(&o), per_rank);
                for (int64_t k = 0; k < p.n_batches; k++) {
                    int64_t b = (r + k * world) % all.n_batches, len = all.starts[b + 1] - all.starts[b];
                    ck_assert_int_eq(p.starts[k + 1] - p.starts[k], len);
                    for (int64_t j = 0; j < len; j++)
                        ck_assert_int_eq(p.order[p.starts[k] + j], all.order[all.starts[b] + j]);
                    ck_assert_int_eq(p.shapes[2 * k], all.shapes[2 * b]);
                    ck_assert_int_eq(p.shapes[2 * k + 1], all.shapes[2 * b + 1]);
                    used[b]++;
                }
                wb_epoch_plan_free(&p);
            }
            /* every batch once; padding repeats the first ones, drop_last leaves the last out */
            int64_t dealt = per_rank * world;
            for (int64_t b = 0; b < all.n_batches; b++)
                ck_assert_int_eq(used[b], b < dealt - all.n_batches ? 2 : b < dealt ? 1 : 0);
            wb_epoch_plan_free(&all);
        }
}
END_TEST

/* image_weights under ranks: the same weighted draws on every rank, dealt
 * out so that the ranks' batch k together is the batch k of one process
 * with the total batch. */
START_TEST(test_weighted_draws_are_dealt_out_as_the_total_batch) {
    double weights[10] = {1, 5, 0, 2, 2, 9, 1, 0.5, 3, 1};
    wb_sampler_opts one = {.n_items = 10, .batch_size = 4, .weights = weights, .seed = 9};
    wb_epoch_plan whole, part[2];
    ck_assert_int_eq(wb_sampler_plan(&one, 3, &whole), WB_OK);
    for (int r = 0; r < 2; r++) {
        wb_sampler_opts o = {.n_items = 10, .batch_size = 2, .weights = weights, .seed = 9, .rank = r, .world = 2};
        ck_assert_int_eq(wb_sampler_plan(&o, 3, &part[r]), WB_OK);
        ck_assert_int_eq(part[r].n_batches, whole.n_batches);
    }
    for (int64_t b = 0; b < whole.n_batches; b++)
        for (int64_t j = 0; whole.starts[b] + j < whole.starts[b + 1]; j++) {
            const wb_epoch_plan *p = &part[j % 2];
            ck_assert_int_eq(p->order[p->starts[b] + j / 2], whole.order[whole.starts[b] + j]);
            ck_assert_int_ne(weights[p->order[p->starts[b] + j / 2]], 0.0); /* never a weight-0 image */
        }
    for (int r = 0; r < 2; r++) wb_epoch_plan_free(&part[r]);
    wb_epoch_plan_free(&whole);
}
END_TEST

/* Aspect groups have batches of two kinds, and evaluation's uneven shards
 * interleave images, which rect's fixed batches cannot: both refused. */
START_TEST(test_grouped_and_uneven_rect_plans_are_not_sharded) {
    uint8_t groups[4] = {0, 1, 0, 1};
    wb_sampler_opts o = {.n_items = 4, .batch_size = 2, .groups = groups, .rank = 0, .world = 2};
    wb_epoch_plan p;
    ck_assert_int_eq(wb_sampler_plan(&o, 0, &p), WB_ERR_UNSUPPORTED);
    int32_t sizes[8] = {10, 20, 20, 10, 10, 10, 30, 10};
    wb_rect_opts rect = {.sizes = sizes, .img_size = 64, .stride = 32};
    wb_sampler_opts r = {.n_items = 4, .batch_size = 2, .rect = &rect, .rank = 1, .world = 2, .uneven = true};
    ck_assert_int_eq(wb_sampler_plan(&r, 0, &p), WB_ERR_UNSUPPORTED);
}
END_TEST

int main(void) {
    Suite *s = suite_create("sampler_dist");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_every_item_once_per_epoch_with_padding_counted);
    tcase_add_test(tc, test_ranks_batches_together_are_the_total_batch);
    tcase_add_test(tc, test_order_depends_on_seed_and_epoch_only);
    tcase_add_test(tc, test_uneven_shards_hold_every_item_exactly_once);
    tcase_add_test(tc, test_resume_mid_epoch_with_other_ranks_sees_every_item_once);
    tcase_add_test(tc, test_rect_ranks_get_whole_batches_with_their_shapes);
    tcase_add_test(tc, test_weighted_draws_are_dealt_out_as_the_total_batch);
    tcase_add_test(tc, test_grouped_and_uneven_rect_plans_are_not_sharded);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
