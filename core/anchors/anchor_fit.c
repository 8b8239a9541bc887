#include "anchor_fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "anchor_random.h"

#define MUTATION_PROB 0.9
#define SIGMA 0.1
#define MIN_ANCHOR 2.0f /* px: YOLOv5 clips evolved anchors and drops smaller boxes before clustering */

/* YOLOv5's ratio metric of one box and one anchor, in float32 as torch
 * computes min(r, 1 / r).min(2). */
static float ratio_metric(const float *box, const float *anchor) {
    float rw = box[0] / anchor[0], rh = box[1] / anchor[1];
    float mw = fminf(rw, 1.0f / rw), mh = fminf(rh, 1.0f / rh);
    return fminf(mw, mh);
}

wb_anchor_fit wb_anchor_fit_of(const float *wh, int64_t n, const float *anchors, int na, float anchor_t) {
    const float thr = (float)(1.0 / anchor_t);
    int64_t matchable = 0, above = 0;
    for (int64_t i = 0; i < n; i++) {
        float best = 0;
        for (int a = 0; a < na; a++) {
            float x = ratio_metric(wh + 2 * i, anchors + 2 * a);
            above += x > thr;
            best = fmaxf(best, x);
        }
        matchable += best > thr;
    }
    return (wb_anchor_fit){n ? (double)matchable / (double)n : 0, n ? (double)above / (double)n : 0};
}

double wb_anchor_fitness(const float *wh, int64_t n, const float *anchors, int na, float anchor_t) {
    const float thr = (float)(1.0 / anchor_t);
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        float best = 0;
        for (int a = 0; a < na; a++) best = fmaxf(best, ratio_metric(wh + 2 * i, anchors + 2 * a));
        if (best > thr) sum += best;
    }
    return n ? sum / (double)n : 0;
}

/* One generation's multipliers: redrawn until at least one differs from 1,
 * so no child is a copy of its parent. */
static void mutation(float *v, int count, uint64_t *rng) {
    bool changed = false;
    while (!changed) {
        double strength = wb_anchor_uniform(rng);
        for (int j = 0; j < count; j++) {
            double keep = wb_anchor_uniform(rng) < MUTATION_PROB ? 1.0 : 0.0;
            double f = keep * strength * wb_anchor_normal(rng) * SIGMA + 1.0;
            v[j] = (float)fmin(fmax(f, 0.3), 3.0);
            changed |= v[j] != 1.0f;
        }
    }
}

double wb_anchor_evolve(const float *wh, int64_t n, float *anchors, int na, float anchor_t, int generations,
                        uint64_t *rng) {
    double f = wb_anchor_fitness(wh, n, anchors, na, anchor_t);
    float v[2 * WB_MAX_ANCHORS], child[2 * WB_MAX_ANCHORS];
    for (int g = 0; g < generations; g++) {
        mutation(v, 2 * na, rng);
        for (int j = 0; j < 2 * na; j++) child[j] = fmaxf(anchors[j] * v[j], MIN_ANCHOR);
        double fg = wb_anchor_fitness(wh, n, child, na, anchor_t);
        if (fg > f) {
            f = fg;
            memcpy(anchors, child, sizeof *child * 2 * (size_t)na);
        }
    }
    return f;
}

static int by_area(const void *a, const void *b) {
    const float *x = a, *y = b;
    float ax = x[0] * x[1], ay = y[0] * y[1];
    return (ax > ay) - (ax < ay);
}

void wb_anchor_sort_by_area(float *anchors, int na) { qsort(anchors, (size_t)na, 2 * sizeof *anchors, by_area); }

static int by_value(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double wb_anchor_search(const float *wh, int64_t n, int na, float anchor_t, int img_size, int generations,
                        uint64_t *rng, float *out) {
    float *kept = malloc(sizeof *kept * 2 * (size_t)(n > 0 ? n : 1));
    if (!kept) return -1;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (wh[2 * i] >= MIN_ANCHOR || wh[2 * i + 1] >= MIN_ANCHOR)
            kept[2 * m] = wh[2 * i], kept[2 * m + 1] = wh[2 * i + 1], m++;
    if (!wb_anchor_kmeans(kept, m, na, rng, out)) {
        for (int j = 0; j < 2 * na; j++) out[j] = (float)wb_anchor_uniform(rng);
        qsort(out, 2 * (size_t)na, sizeof *out, by_value);
        for (int j = 0; j < 2 * na; j++) out[j] *= (float)img_size;
    }
    wb_anchor_sort_by_area(out, na);
    double f = wb_anchor_evolve(kept, m, out, na, anchor_t, generations, rng);
    wb_anchor_sort_by_area(out, na);
    free(kept);
    return f;
}
