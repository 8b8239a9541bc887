/* Rectangular batches: see wb_rect_opts in sampler.h. The shapes follow
 * YOLOv5 7.0's LoadImagesAndLabels (rect) to the operation order, so they
 * come out the same integers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../runtime/context.h"
#include "sampler.h"
#include "transforms.h"

typedef struct ranked {
    double ar;
    int64_t index;
} ranked;

/* By aspect ratio, ties by index, so the order is the same on every machine. */
static int by_ratio(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->ar != y->ar) return x->ar < y->ar ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static int32_t side(double ratio, const wb_rect_opts *r) {
    return (int32_t)ceil(ratio * r->img_size / r->stride + r->pad) * r->stride;
}

wb_status wb_rect_plan(const wb_sampler_opts *o, int64_t epoch, wb_epoch_plan *out) {
    const wb_rect_opts *r = o->rect;
    int64_t n = o->n_items, nb = wb_sampler_batches(o);
    ranked *rank = malloc((size_t)n * sizeof *rank);
    int64_t *order = malloc((size_t)n * sizeof *order), *starts = malloc((size_t)(nb + 1) * sizeof *starts);
    int64_t *perm = malloc((size_t)(nb + 1) * sizeof *perm);
    int32_t *shapes = malloc((size_t)(2 * nb + 1) * sizeof *shapes);
    int32_t *sorted_shapes = malloc((size_t)(2 * nb + 1) * sizeof *sorted_shapes);
    if (!rank || !order || !starts || !perm || !shapes || !sorted_shapes) {
        free(rank), free(order), free(starts), free(perm), free(shapes), free(sorted_shapes);
        return WB_ERR_NOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        int32_t w = r->sizes[2 * i], h = r->sizes[2 * i + 1];
        rank[i] = (ranked){w > 0 && h > 0 ? (double)h / (double)w : 1.0, i};
    }
    qsort(rank, (size_t)n, sizeof *rank, by_ratio);
    for (int64_t b = 0; b < nb; b++) {
        int64_t first = b * o->batch_size, last = first + o->batch_size < n ? first + o->batch_size : n;
        double lo = rank[first].ar, hi = rank[last - 1].ar, rw = 1, rh = 1;
        if (hi < 1) rh = hi;
        else if (lo > 1) rw = 1 / lo;
        sorted_shapes[2 * b] = side(rw, r), sorted_shapes[2 * b + 1] = side(rh, r);
        perm[b] = b;
    }
    /* batches keep their images; only their order is shuffled */
    uint64_t rng = wb_transform_rng(o->seed, epoch, WB_SAMPLER_STREAM);
    if (o->shuffle) wb_sampler_shuffle(perm, nb, &rng);
    int64_t pos = 0;
    for (int64_t k = 0; k < nb; k++) {
        int64_t first = perm[k] * o->batch_size, last = first + o->batch_size < n ? first + o->batch_size : n;
        starts[k] = pos;
        for (int64_t i = first; i < last; i++) order[pos++] = rank[i].index;
        shapes[2 * k] = sorted_shapes[2 * perm[k]], shapes[2 * k + 1] = sorted_shapes[2 * perm[k] + 1];
    }
    starts[nb] = pos;
    free(rank), free(perm), free(sorted_shapes);
    *out = (wb_epoch_plan){epoch, order, starts, nb, shapes};
    return WB_OK;
}
