/* image_weights: YOLOv5's labels_to_class_weights / labels_to_image_weights
 * on a hand-worked example, and the sampler's weighted draws: a function of
 * (seed, epoch) only (so resume is exact), with the weights' distribution. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "data/image_weights.h"
#include "data/sampler.h"
#include "wbtest.h"

/* Labels per image: [0, 0, 1], [1], [], [2, 2, 2, 2]. Class counts 2, 2, 4;
 * 1 / count = 0.5, 0.5, 0.25, normalised by 1.25: 0.4, 0.4, 0.2. Image
 * weights: 2 * 0.4 + 0.4 = 1.2; 0.4; 0 (never drawn); 4 * 0.2 = 0.8. */
START_TEST(weights_as_yolov5) {
    const int labels[] = {0, 0, 1, 1, 2, 2, 2, 2};
    const int64_t first[] = {0, 3, 4, 4, 8};
    double w[4];
    ck_assert_int_eq(wb_image_weights(labels, first, 4, 3, w), 1);
    const double want[] = {1.2, 0.4, 0.0, 0.8};
    for (int i = 0; i < 4; i++) ck_assert_double_eq_tol(w[i], want[i], 1e-12);
    /* a class without labels counts as one (YOLOv5's weights[weights == 0] = 1) */
    const int one[] = {0, 0};
    const int64_t first_one[] = {0, 2};
    ck_assert_int_eq(wb_image_weights(one, first_one, 1, 2, w), 0);
    ck_assert_double_eq_tol(w[0], 2 * (0.5 / 1.5), 1e-12);
    /* nothing to draw */
    const int64_t empty[] = {0, 0, 0};
    ck_assert_int_eq(wb_image_weights(labels, empty, 2, 3, w), -1);
}
END_TEST

START_TEST(draws_follow_the_weights_and_the_seed) {
    enum { N = 5, EPOCHS = 400 };
    const double weights[N] = {1.2, 0.4, 0.0, 0.8, 1.6};
    wb_sampler_opts o = {.n_items = N, .weights = weights, .batch_size = 2, .shuffle = true, .seed = 7};
    ck_assert_int_eq(wb_sampler_batches(&o), 3);
    int64_t count[N] = {0};
    for (int64_t e = 0; e < EPOCHS; e++) {
        wb_epoch_plan p, again;
        ck_assert_int_eq(wb_sampler_plan(&o, e, &p), WB_OK);
        ck_assert_int_eq(wb_sampler_plan(&o, e, &again), WB_OK);
        ck_assert_int_eq(p.n_batches, 3);
        ck_assert_int_eq(p.starts[3], N);
        for (int i = 0; i < N; i++) {
            ck_assert_int_eq(p.order[i], again.order[i]); /* a function of (seed, epoch) */
            count[p.order[i]]++;
        }
        wb_epoch_plan_free(&p);
        wb_epoch_plan_free(&again);
    }
    ck_assert_int_eq(count[2], 0);
    /* each count is binomial(2000, w / 4): within 4.5 standard deviations */
    for (int i = 0; i < N; i++) {
        double p = weights[i] / 4.0, mean = N * EPOCHS * p, sd = sqrt(N * EPOCHS * p * (1 - p));
        printf("item %d: drawn %lld times, expected %.0f +- %.1f\n", i, (long long)count[i], mean, sd);
        ck_assert_msg(fabs((double)count[i] - mean) <= 4.5 * sd + 1e-9, "item %d drawn %lld times, expected %.0f", i,
                      (long long)count[i], mean);
    }
    /* another epoch or seed draws another order */
    wb_epoch_plan a, b, c;
    wb_sampler_plan(&o, 0, &a);
    wb_sampler_plan(&o, 1, &b);
    o.seed = 8;
    wb_sampler_plan(&o, 0, &c);
    int same_epoch = 0, same_seed = 0;
    for (int i = 0; i < N; i++) same_epoch += a.order[i] == b.order[i], same_seed += a.order[i] == c.order[i];
    ck_assert(same_epoch < N || same_seed < N);
    wb_epoch_plan_free(&a);
    wb_epoch_plan_free(&b);
    wb_epoch_plan_free(&c);
}
END_TEST

int main(void) {
    Suite *s = suite_create("image_weights");
    TCase *tc = tcase_create("image_weights");
    tcase_add_test(tc, weights_as_yolov5);
    tcase_add_test(tc, draws_follow_the_weights_and_the_seed);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
