/* How well pixel anchors fit a dataset's box sizes, and how YOLOv5 finds
 * better ones (utils/autoanchor.py of YOLOv5 7.0): the shape-ratio metric,
 * best possible recall, k-means on whitened sizes and the genetic refinement.
 *
 * Sizes and anchors are (w, h) pairs in training pixels. The metric of a box
 * and an anchor is min over w and h of min(r, 1/r), r = box / anchor; a box
 * is matchable when its best anchor's metric exceeds 1 / anchor_t, the rule
 * YOLOv5's loss uses to assign targets. Arithmetic is float32 as torch's. */
#ifndef WB_CORE_ANCHORS_ANCHOR_FIT_H
#define WB_CORE_ANCHORS_ANCHOR_FIT_H

#include <stdbool.h>
#include <stdint.h>
#include <workbench/types.h>

#define WB_MAX_ANCHORS 64

typedef struct wb_anchor_fit {
    double bpr; /* best possible recall: the share of boxes whose best anchor passes 1 / anchor_t */
    double aat; /* anchors above threshold per box */
} wb_anchor_fit;

/* check_anchors' metric of anchors (na pairs) over n sizes. */
wb_anchor_fit wb_anchor_fit_of(const float *wh, int64_t n, const float *anchors, int na, float anchor_t);

/* kmean_anchors' fitness: the mean over boxes of the best metric where it
 * passes 1 / anchor_t, 0 where it does not. */
double wb_anchor_fitness(const float *wh, int64_t n, const float *anchors, int na, float anchor_t);

/* k anchors by k-means (scipy.cluster.vq.kmeans as YOLOv5 calls it: sizes
 * divided by their standard deviation, 30 restarts from k distinct random
 * sizes, each iterated until the mean distance improves by at most 1e-5,
 * clusters left empty dropped, the restart with the lowest mean distance
 * kept). false when it cannot give k of them (fewer than k sizes, or too
 * few distinct ones); out then holds nothing useful. */
bool wb_anchor_kmeans(const float *wh, int64_t n, int k, uint64_t *rng, float *out);

/* YOLOv5's genetic refinement, in place: each generation multiplies the
 * anchors by 1 + N(0, 1) * 0.1 * u (u one uniform draw per generation; each
 * value mutated with probability 0.9, the factor clipped to [0.3, 3]),
 * clips them at 2 px and keeps the child if its fitness is higher. Returns
 * the final fitness. */
double wb_anchor_evolve(const float *wh, int64_t n, float *anchors, int na, float anchor_t, int generations,
                        uint64_t *rng);

/* Sorts anchor pairs by area, small to large (the order of the levels). */
void wb_anchor_sort_by_area(float *anchors, int na);

/* kmean_anchors: new anchors (na pairs, sorted by area) for the unscaled
 * sizes wh: those with a side of at least 2 px are clustered by
 * wb_anchor_kmeans (or, when it cannot, start as sorted uniform draws times
 * img_size, YOLOv5's fallback) and evolved for `generations`. Returns their
 * fitness over those sizes; -1 when out of memory. */
double wb_anchor_search(const float *wh, int64_t n, int na, float anchor_t, int img_size, int generations,
                        uint64_t *rng, float *out);

#endif
