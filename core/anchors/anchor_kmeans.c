/* k-means of box sizes as YOLOv5 runs it: scipy.cluster.vq.kmeans(wh / std,
 * k, iter=30). Written here because no C library in Debian offers k-means
 * (GSL has none; mlpack is C++ over Armadillo), and what YOLOv5's anchors
 * depend on is scipy's particular variant: restarts from distinct random
 * observations, the stop on the mean (not squared) distance, empty clusters
 * dropped rather than re-seeded. Two dimensions, so plain loops suffice. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "anchor_fit.h"
#include "anchor_random.h"

#define RESTARTS 30
#define THRESH 1e-5

/* One Lloyd iteration: assigns every point to its nearest centre (returning
 * the mean distance), then moves the centres to their members' means and
 * drops those without members (k shrinks). */
static double lloyd_step(const double *pts, int64_t n, double *centre, int *k, double *sum, int64_t *count) {
    double dist = 0;
    memset(sum, 0, sizeof *sum * 2 * (size_t)*k);
    memset(count, 0, sizeof *count * (size_t)*k);
    for (int64_t i = 0; i < n; i++) {
        int best = 0;
        double best_d = INFINITY;
        for (int c = 0; c < *k; c++) {
            double dx = pts[2 * i] - centre[2 * c], dy = pts[2 * i + 1] - centre[2 * c + 1];
            double d = dx * dx + dy * dy;
            if (d < best_d) best_d = d, best = c;
        }
        dist += sqrt(best_d);
        sum[2 * best] += pts[2 * i], sum[2 * best + 1] += pts[2 * i + 1];
        count[best]++;
    }
    int kept = 0;
    for (int c = 0; c < *k; c++) {
        if (!count[c]) continue;
        centre[2 * kept] = sum[2 * c] / (double)count[c];
        centre[2 * kept + 1] = sum[2 * c + 1] / (double)count[c];
        kept++;
    }
    *k = kept;
    return dist / (double)n;
}

/* k distinct observations, drawn without replacement (a partial shuffle). */
static void pick_distinct(const double *pts, int64_t n, int k, int64_t *order, uint64_t *rng, double *centre) {
    for (int64_t i = 0; i < n; i++) order[i] = i;
    for (int c = 0; c < k; c++) {
        int64_t j = c + wb_anchor_below(rng, n - c);
        int64_t t = order[c];
        order[c] = order[j], order[j] = t;
        centre[2 * c] = pts[2 * order[c]], centre[2 * c + 1] = pts[2 * order[c] + 1];
    }
}

/* Standard deviation per axis (numpy's, ddof 0). */
static void axis_std(const float *wh, int64_t n, double sd[2]) {
    for (int a = 0; a < 2; a++) {
        double mean = 0, var = 0;
        for (int64_t i = 0; i < n; i++) mean += wh[2 * i + a];
        mean /= (double)n;
        for (int64_t i = 0; i < n; i++) var += (wh[2 * i + a] - mean) * (wh[2 * i + a] - mean);
        sd[a] = sqrt(var / (double)n);
    }
}

bool wb_anchor_kmeans(const float *wh, int64_t n, int k, uint64_t *rng, float *out) {
    if (k < 1 || k > WB_MAX_ANCHORS || n < k) return false;
    double sd[2];
    axis_std(wh, n, sd);
    if (!(sd[0] > 0) || !(sd[1] > 0)) return false; /* every size alike: nothing to whiten */
    double *pts = malloc(sizeof *pts * 2 * (size_t)n);
    int64_t *order = malloc(sizeof *order * (size_t)n);
    bool ok = pts && order;
    double centre[2 * WB_MAX_ANCHORS], best[2 * WB_MAX_ANCHORS], sum[2 * WB_MAX_ANCHORS];
    int64_t count[WB_MAX_ANCHORS];
    double best_dist = INFINITY;
    int best_k = 0;
    for (int64_t i = 0; ok && i < n; i++) pts[2 * i] = wh[2 * i] / sd[0], pts[2 * i + 1] = wh[2 * i + 1] / sd[1];
    for (int r = 0; ok && r < RESTARTS; r++) {
        pick_distinct(pts, n, k, order, rng, centre);
        int kk = k;
        double prev = INFINITY, dist = INFINITY, diff = INFINITY;
        while (diff > THRESH) {
            dist = lloyd_step(pts, n, centre, &kk, sum, count);
            diff = prev - dist;
            prev = dist;
        }
        if (dist < best_dist) {
            best_dist = dist, best_k = kk;
            memcpy(best, centre, sizeof *centre * 2 * (size_t)kk);
        }
    }
    free(pts);
    free(order);
    if (!ok || best_k != k) return false;
    for (int c = 0; c < k; c++) out[2 * c] = (float)(best[2 * c] * sd[0]), out[2 * c + 1] = (float)(best[2 * c + 1] * sd[1]);
    return true;
}
