#include "sampler.h"

#include <stdlib.h>
#include <string.h>
#include "../runtime/context.h"
#include "transforms.h"

/* Samples of a transform use index >= 0; the sampler's own stream uses -1. */
#define SAMPLER_STREAM WB_SAMPLER_STREAM

static int64_t group_size(const wb_sampler_opts *o, int g) {
    if (!o->groups) return g == 0 ? o->n_items : 0;
    int64_t n = 0;
    for (int64_t i = 0; i < o->n_items; i++) n += o->groups[i] == g;
    return n;
}

static int64_t batches_of(const wb_sampler_opts *o, int64_t n) {
    return o->drop_last ? n / o->batch_size : (n + o->batch_size - 1) / o->batch_size;
}

static int world_of(const wb_sampler_opts *o) { return o->world > 1 ? o->world : 1; }

/* Items of the rank's shard (DistributedSampler's num_samples). */
static int64_t shard_items(const wb_sampler_opts *o) {
    int64_t w = world_of(o);
    if (o->uneven) return o->n_items / w + (o->rank < o->n_items % w);
    return o->drop_last ? o->n_items / w : (o->n_items + w - 1) / w;
}

int64_t wb_sampler_batches(const wb_sampler_opts *o) {
    if (world_of(o) > 1 && o->rect) { /* whole batches of the rect plan per rank */
        int64_t all = batches_of(o, o->n_items), w = world_of(o);
        return o->drop_last ? all / w : (all + w - 1) / w;
    }
    if (world_of(o) > 1) return batches_of(o, shard_items(o));
    if (o->weights || o->rect) return batches_of(o, o->n_items);
    return batches_of(o, group_size(o, 0)) + batches_of(o, group_size(o, 1));
}

void wb_sampler_shuffle(int64_t *a, int64_t n, uint64_t *rng) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(wb_rng_next(rng) % (uint64_t)(i + 1));
        int64_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* n_items draws of items with probability weight / total (random.choices):
 * a uniform point on the cumulative weights cum, found by bisection. */
static void weighted_draws(const wb_sampler_opts *o, double *cum, int64_t *order, uint64_t *rng) {
    double total = 0;
    for (int64_t i = 0; i < o->n_items; i++) cum[i] = total += o->weights[i];
    for (int64_t k = 0; k < o->n_items; k++) {
        double u = (double)(wb_rng_next(rng) >> 11) * 0x1p-53 * total; /* 53 bits: fine for any dataset size */
        int64_t lo = 0, hi = o->n_items - 1;
        while (lo < hi) { /* the first item whose cumulative weight exceeds u */
            int64_t mid = (lo + hi) / 2;
            if (cum[mid] > u) hi = mid;
            else lo = mid + 1;
        }
        order[k] = lo;
    }
}

static wb_status weighted_plan(const wb_sampler_opts *o, int64_t epoch, wb_epoch_plan *out) {
    int64_t nb = wb_sampler_batches(o);
    int64_t *order = malloc((size_t)o->n_items * sizeof *order), *starts = malloc((size_t)(nb + 1) * sizeof *starts);
    double *cum = malloc((size_t)o->n_items * sizeof *cum);
    if (!order || !starts || !cum) {
        free(order), free(starts), free(cum);
        return WB_ERR_NOMEM;
    }
    uint64_t rng = wb_transform_rng(o->seed, epoch, SAMPLER_STREAM);
    weighted_draws(o, cum, order, &rng);
    free(cum);
    for (int64_t b = 0; b <= nb; b++) starts[b] = b * o->batch_size < o->n_items ? b * o->batch_size : o->n_items;
    *out = (wb_epoch_plan){epoch, order, starts, nb, NULL};
    return WB_OK;
}

static wb_status single_plan(const wb_sampler_opts *o, int64_t epoch, wb_epoch_plan *out);

/* The rank's shard of the plan a single process with the total batch has. */
static wb_status shard_plan(const wb_sampler_opts *o, int64_t epoch, wb_epoch_plan *out) {
    wb_sampler_opts whole = *o;
    whole.world = 1;
    whole.rank = 0;
    whole.batch_size = o->batch_size * o->world;
    whole.drop_last = false;
    wb_epoch_plan all;
    wb_status st = single_plan(&whole, epoch, &all);
    if (st != WB_OK) return st;
    int64_t mine = shard_items(o), nb = wb_sampler_batches(o);
    int64_t *order = malloc((size_t)(mine > 0 ? mine : 1) * sizeof *order);
    int64_t *starts = malloc((size_t)(nb + 1) * sizeof *starts);
    if (!order || !starts) {
        free(order), free(starts), wb_epoch_plan_free(&all);
        return WB_ERR_NOMEM;
    }
    /* Position rank + k x world of the padded order; padding wraps to its start. */
    for (int64_t k = 0; k < mine; k++) order[k] = all.order[(o->rank + k * o->world) % o->n_items];
    wb_epoch_plan_free(&all);
    for (int64_t b = 0; b <= nb; b++) starts[b] = b * o->batch_size < mine ? b * o->batch_size : mine;
    *out = (wb_epoch_plan){epoch, order, starts, nb, NULL};
    return WB_OK;
}

/* rect: the rank's whole batches of the single rect plan (batch_size each),
 * batches rank, rank + world, ...; padded with the plan's first batches to
 * the same count on every rank (drop_last: cut), so each batch keeps its
 * letterbox shape. Together the ranks' batch k are the plan's batches
 * k x world .. k x world + world - 1: not a single process's batch of
 * batch_size x world, whose shapes would be other ones. */
static wb_status rect_shard_plan(const wb_sampler_opts *o, int64_t epoch, wb_epoch_plan *out) {
    wb_sampler_opts whole = *o;
    whole.world = 1;
    whole.rank = 0;
    wb_epoch_plan all;
    wb_status st = wb_rect_plan(&whole, epoch, &all);
    if (st != WB_OK) return st;
    int64_t nb = wb_sampler_batches(o), items = 0;
    for (int64_t k = 0; k < nb; k++) {
        int64_t b = (o->rank + k * o->world) % all.n_batches;
        items += all.starts[b + 1] - all.starts[b];
    }
    int64_t *order = malloc((size_t)(items > 0 ? items : 1) * sizeof *order);
    int64_t *starts = malloc((size_t)(nb + 1) * sizeof *starts);
    int32_t *shapes = malloc((size_t)(2 * nb + 1) * sizeof *shapes);
    if (!order || !starts || !shapes) {
        free(order), free(starts), free(shapes), wb_epoch_plan_free(&all);
        return WB_ERR_NOMEM;
    }
    int64_t pos = 0;
    for (int64_t k = 0; k < nb; k++) {
        int64_t b = (o->rank + k * o->world) % all.n_batches, len = all.starts[b + 1] - all.starts[b];
        starts[k] = pos;
        memcpy(order + pos, all.order + all.starts[b], (size_t)len * sizeof *order);
        pos += len;
        shapes[2 * k] = all.shapes[2 * b], shapes[2 * k + 1] = all.shapes[2 * b + 1];
    }
    starts[nb] = pos;
    wb_epoch_plan_free(&all);
    *out = (wb_epoch_plan){epoch, order, starts, nb, shapes};
    return WB_OK;
}

wb_status wb_sampler_plan(const wb_sampler_opts *o, int64_t epoch, wb_epoch_plan *out) {
    memset(out, 0, sizeof *out);
    if (world_of(o) > 1) {
        /* aspect groups have batches of two kinds; evaluation's uneven shards interleave images, not batches */
        if (o->groups || (o->rect && o->uneven)) return WB_ERR_UNSUPPORTED;
        if (o->rect) return rect_shard_plan(o, epoch, out);
        return shard_plan(o, epoch, out); /* image weights: the draws are the order, the same on every rank */
    }
    return single_plan(o, epoch, out);
}

static wb_status single_plan(const wb_sampler_opts *o, int64_t epoch, wb_epoch_plan *out) {
    if (o->rect) return wb_rect_plan(o, epoch, out);
    if (o->weights) return weighted_plan(o, epoch, out);
    int64_t nb = wb_sampler_batches(o);
    int64_t *order = malloc((size_t)(o->n_items > 0 ? o->n_items : 1) * sizeof *order);
    int64_t *batch_start = malloc((size_t)(nb + 1) * sizeof *batch_start); /* in the group layout */
    int64_t *batch_len = malloc((size_t)(nb + 1) * sizeof *batch_len);
    int64_t *perm = malloc((size_t)(nb + 1) * sizeof *perm);
    int64_t *final = malloc((size_t)(o->n_items > 0 ? o->n_items : 1) * sizeof *final);
    int64_t *starts = malloc((size_t)(nb + 1) * sizeof *starts);
    if (!order || !batch_start || !batch_len || !perm || !final || !starts) {
        free(order), free(batch_start), free(batch_len), free(perm), free(final), free(starts);
        return WB_ERR_NOMEM;
    }
    uint64_t rng = wb_transform_rng(o->seed, epoch, SAMPLER_STREAM);
    /* Lay the items out group by group, each group shuffled and cut into batches. */
    int64_t at = 0, b = 0;
    for (int g = 0; g < 2; g++) {
        int64_t first = at;
        for (int64_t i = 0; i < o->n_items; i++)
            if ((o->groups ? o->groups[i] : 0) == g) order[at++] = i;
        int64_t n = at - first;
        if (o->shuffle) wb_sampler_shuffle(order + first, n, &rng);
        for (int64_t k = 0; k < batches_of(o, n); k++, b++) {
            batch_start[b] = first + k * o->batch_size;
            int64_t rest = n - k * o->batch_size;
            batch_len[b] = rest < o->batch_size ? rest : o->batch_size;
        }
    }
    /* Then the batches themselves go in random order, so groups interleave.
     * One group: a partial last batch stays last (PyTorch's order), so that
     * batch k holds positions [k x batch, (k + 1) x batch) of the order, as
     * the ranks' batches k do together (shard_plan), and a run resumed
     * mid-epoch with other ranks goes on where the writer stopped. */
    int64_t moved = !o->groups && nb > 0 && batch_len[nb - 1] < o->batch_size ? nb - 1 : nb;
    for (int64_t k = 0; k < nb; k++) perm[k] = k;
    if (o->shuffle) wb_sampler_shuffle(perm, moved, &rng);
    int64_t pos = 0;
    for (int64_t k = 0; k < nb; k++) {
        starts[k] = pos;
        memcpy(final + pos, order + batch_start[perm[k]], (size_t)batch_len[perm[k]] * sizeof *final);
        pos += batch_len[perm[k]];
    }
    starts[nb] = pos;
    free(order), free(batch_start), free(batch_len), free(perm);
    *out = (wb_epoch_plan){epoch, final, starts, nb, NULL};
    return WB_OK;
}

void wb_epoch_plan_free(wb_epoch_plan *p) {
    free(p->order);
    free(p->shapes);
    free(p->starts);
    memset(p, 0, sizeof *p);
}
