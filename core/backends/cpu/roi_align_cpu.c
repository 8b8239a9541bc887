/* OpenMP RoIAlign. A bilinear sample's weights factor into a row part and a
 * column part, so each RoI's sample rows and columns are interpolated once
 * (tables of out * grid entries) and reused by every channel, instead of
 * per channel and sample as in the reference. The forward goes one step
 * further, as torchvision's: every valid sample's four cell offsets and
 * weights, so the channel loop is loads and multiply-adds only, and it reads
 * a channels-last copy of the features, so that loop runs on vectors (or,
 * at inference, blocked features as they are, 16 channels a vector). It runs
 * RoIs in parallel; the backward gives each thread its own channels of
 * every image, so the scatter-adds of overlapping RoIs never race and each
 * gradient element sums its terms in the reference's order, and goes over
 * the RoIs once per block of channels that fits the cache, from the same
 * per-RoI table. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "../roi_geometry.h"
#include "dnnl_common.h"
#include "../kernels_layout.h"
#include "gather_cpu.h"

enum { B = WB_LAYOUT_BLOCK };

/* Table entries on the stack per axis; RoIs needing more (an adaptive grid
 * over a huge box) interpolate on the fly. */
#define LERP_TABLE_MAX 1024

typedef struct lerp_axis {
    const wb_roi_lerp *tab; /* NULL: compute each sample */
    float start, bin;
    int grid;
    int64_t size;
} lerp_axis;

static lerp_axis axis_of(wb_roi_lerp *tab, float start, float bin, int grid, int out, int64_t size) {
    lerp_axis ax = {NULL, start, bin, grid, size};
    if ((int64_t)grid * out > LERP_TABLE_MAX) return ax;
    for (int p = 0; p < out; p++)
        for (int i = 0; i < grid; i++) tab[p * grid + i] = wb_roi_lerp_at(wb_roi_sample_at(start, bin, grid, p, i), size);
    ax.tab = tab;
    return ax;
}

static inline wb_roi_lerp lerp_of(const lerp_axis *ax, int p, int i) {
    return ax->tab ? ax->tab[p * ax->grid + i]
                   : wb_roi_lerp_at(wb_roi_sample_at(ax->start, ax->bin, ax->grid, p, i), ax->size);
}

/* The forward's per-RoI table: samples of bin b are [first[b], first[b + 1]). */
#define SAMPLE_TABLE_MAX 4096
#define BINS_MAX 1024

typedef struct roi_sample {
    int32_t at[4]; /* cells in the plane (< 2^31, checked by the front-end): (lo, lo), (lo, hi), (hi, lo), (hi, hi) */
    float w[4];
} roi_sample;

/* False when the RoI has more samples or bins than the table holds. */
static bool sample_table(const lerp_axis *ys, const lerp_axis *xs, const wb_roi_args *a, roi_sample *tab,
                         int *first) {
    if ((int64_t)a->out_h * a->out_w > BINS_MAX ||
        (int64_t)a->out_h * a->out_w * ys->grid * xs->grid > SAMPLE_TABLE_MAX)
        return false;
    int n = 0;
    for (int ph = 0; ph < a->out_h; ph++) {
        for (int pw = 0; pw < a->out_w; pw++) {
            first[ph * a->out_w + pw] = n;
            for (int iy = 0; iy < ys->grid; iy++) {
                wb_roi_lerp ly = lerp_of(ys, ph, iy);
                for (int ix = 0; ix < xs->grid && ly.valid; ix++) {
                    wb_roi_lerp lx = lerp_of(xs, pw, ix);
                    if (!lx.valid) continue;
                    tab[n++] = (roi_sample){{(int32_t)(ly.lo * a->w + lx.lo), (int32_t)(ly.lo * a->w + lx.hi),
                                             (int32_t)(ly.hi * a->w + lx.lo), (int32_t)(ly.hi * a->w + lx.hi)},
                                            {ly.w_lo * lx.w_lo, ly.w_lo * lx.w_hi, ly.w_hi * lx.w_lo,
                                             ly.w_hi * lx.w_hi}};
                }
            }
        }
    }
    first[a->out_h * a->out_w] = n;
    return true;
}

/* One thread's tables for the RoI at hand (the forwards'): its lerp axes
 * and, unless it outgrows them, its samples. */
typedef struct roi_tables {
    wb_roi_lerp ytab[LERP_TABLE_MAX], xtab[LERP_TABLE_MAX];
    roi_sample samples[SAMPLE_TABLE_MAX];
    int first[BINS_MAX + 1];
    lerp_axis ys, xs;
    bool tabled;
} roi_tables;

static wb_roi_box tables_of(const float *roi, const wb_roi_args *a, roi_tables *t) {
    wb_roi_box b = wb_roi_align_box(roi, a);
    t->ys = axis_of(t->ytab, b.start_h, b.bin_h, b.grid_h, a->out_h, a->h);
    t->xs = axis_of(t->xtab, b.start_w, b.bin_w, b.grid_w, a->out_w, a->w);
    t->tabled = sample_table(&t->ys, &t->xs, a, t->samples, t->first);
    return b;
}

static float tabled_value(const float *plane, const roi_sample *p, int n) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++, p++)
        sum += p->w[0] * plane[p->at[0]] + p->w[1] * plane[p->at[1]] + p->w[2] * plane[p->at[2]] +
               p->w[3] * plane[p->at[3]];
    return sum;
}

/* Every channel of one bin from channels-last features (the RoI's image,
 * cells x c): each tap is a contiguous row of channels, so the sums run as
 * vectors across channels, each lane in tabled_value's order. */
static void tabled_row(const float *image, int64_t c, const roi_sample *p, int n, float *sum) {
    for (int64_t ch = 0; ch < c; ch++) sum[ch] = 0.0f;
    for (int i = 0; i < n; i++, p++) {
        const float *c0 = image + p->at[0] * c, *c1 = image + p->at[1] * c, *c2 = image + p->at[2] * c,
                    *c3 = image + p->at[3] * c;
#pragma omp simd
        for (int64_t ch = 0; ch < c; ch++)
            sum[ch] += p->w[0] * c0[ch] + p->w[1] * c1[ch] + p->w[2] * c2[ch] + p->w[3] * c3[ch];
    }
}

/* The features channels-last ([N, H * W, C]) in pool scratch (with the
 * scratch lock held), or NULL without memory. Scratch reuses what freed
 * activations left: a malloc'd copy would sit on top of the pool's peak. */
static float *channels_last(const float *feat, int64_t n, int64_t c, int64_t plane) {
    float *t = wb_dnnl_scratch_alloc((size_t)(n * c * plane) * sizeof(float));
    if (!t) return NULL;
#pragma omp parallel for collapse(2) schedule(static) if (n * c * plane > 65536)
    for (int64_t i = 0; i < n; i++)
        for (int64_t p0 = 0; p0 < plane; p0 += 64) {
            int64_t p1 = p0 + 64 < plane ? p0 + 64 : plane;
            for (int64_t ch = 0; ch < c; ch++)
                for (int64_t q = p0; q < p1; q++) t[(i * plane + q) * c + ch] = feat[(i * c + ch) * plane + q];
        }
    return t;
}

static float bin_value(const float *plane, int64_t w, const lerp_axis *ys, const lerp_axis *xs, int ph, int pw) {
    float sum = 0.0f;
    for (int iy = 0; iy < ys->grid; iy++) {
        wb_roi_lerp ly = lerp_of(ys, ph, iy);
        if (!ly.valid) continue;
        const float *r0 = plane + ly.lo * w, *r1 = plane + ly.hi * w;
        for (int ix = 0; ix < xs->grid; ix++) {
            wb_roi_lerp lx = lerp_of(xs, pw, ix);
            if (!lx.valid) continue;
            sum += ly.w_lo * lx.w_lo * r0[lx.lo] + ly.w_lo * lx.w_hi * r0[lx.hi] + ly.w_hi * lx.w_lo * r1[lx.lo] +
                   ly.w_hi * lx.w_hi * r1[lx.hi];
        }
    }
    return sum;
}

/* Bits of x spread to the even positions (a Morton code's half). */
static uint64_t spread_bits(uint32_t x) {
    uint64_t v = x & 0xffff;
    v = (v | v << 8) & 0x00ff00ffULL;
    v = (v | v << 4) & 0x0f0f0f0fULL;
    v = (v | v << 2) & 0x33333333ULL;
    return (v | v << 1) & 0x55555555ULL;
}

typedef struct roi_order {
    uint64_t key;
    int64_t k;
} roi_order;

static int by_key(const void *a, const void *b) {
    uint64_t x = ((const roi_order *)a)->key, y = ((const roi_order *)b)->key;
    return (x > y) - (x < y);
}

/* The RoIs in the Z-order of their centres' feature cells, image by image
 * (NULL without memory: index order). Proposals come by score, all over the
 * map; in this order RoIs that run one after another share the cells they
 * read, which stay in the cache. Each RoI's values are its own, so the
 * order changes no result. */
static roi_order *spatial_order(const float *rois, const wb_roi_args *a) {
    roi_order *o = malloc((size_t)a->k * sizeof *o);
    for (int64_t k = 0; o && k < a->k; k++) {
        const float *r = rois + 5 * k;
        float cx = 0.5f * (r[1] + r[3]) * a->spatial_scale, cy = 0.5f * (r[2] + r[4]) * a->spatial_scale;
        uint32_t x = cx > 0.0f && cx < 65535.0f ? (uint32_t)cx : 0, y = cy > 0.0f && cy < 65535.0f ? (uint32_t)cy : 0;
        uint64_t batch = r[0] > 0.0f && r[0] < 1048576.0f ? (uint64_t)r[0] : 0;
        o[k] = (roi_order){batch << 32 | spread_bits(y) << 1 | spread_bits(x), k};
    }
    if (o) qsort(o, (size_t)a->k, sizeof *o, by_key);
    return o;
}

void wb_cpu_roi_align_forward(const float *feat, const float *rois, const wb_roi_args *a, float *y) {
    int64_t plane = a->h * a->w, bins = (int64_t)a->out_h * a->out_w;
    /* a copy of the features costs less than the strided loads it saves once
     * the RoIs sample more cells than the maps hold */
    bool copy = a->k * bins * 4 > plane;
    if (copy) wb_dnnl_lock();
    float *last = copy ? channels_last(feat, a->n, a->c, plane) : NULL;
    roi_order *order = spatial_order(rois, a);
#pragma omp parallel if (a->k * a->c * bins > 4096)
    {
        roi_tables t;
        float *sum = last ? malloc((size_t)a->c * sizeof(float)) : NULL;
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < a->k; i++) {
            int64_t k = order ? order[i].k : i;
            wb_roi_box b = tables_of(rois + 5 * k, a, &t);
            if (t.tabled && sum) {
                for (int bin = 0; bin < bins; bin++) {
                    tabled_row(last + b.batch * plane * a->c, a->c, t.samples + t.first[bin],
                               t.first[bin + 1] - t.first[bin], sum);
                    for (int64_t ch = 0; ch < a->c; ch++) y[(k * a->c + ch) * bins + bin] = sum[ch] / b.count;
                }
                continue;
            }
            for (int64_t ch = 0; ch < a->c; ch++) {
                const float *src = feat + (b.batch * a->c + ch) * plane;
                float *out = y + (k * a->c + ch) * bins;
                for (int ph = 0; ph < a->out_h; ph++) {
                    for (int pw = 0; pw < a->out_w; pw++) {
                        int bin = ph * a->out_w + pw;
                        float s = t.tabled
                                      ? tabled_value(src, t.samples + t.first[bin], t.first[bin + 1] - t.first[bin])
                                      : bin_value(src, a->w, &t.ys, &t.xs, ph, pw);
                        out[bin] = s / b.count;
                    }
                }
            }
        }
        free(sum);
    }
    free(order);
    if (copy) {
        wb_dnnl_scratch_free(last, (size_t)(a->n * a->c * plane) * sizeof(float));
        wb_dnnl_unlock();
    }
}

/* One bin's 16 channels from one block of blocked features (plane x 16
 * floats): each lane summed over the bin's samples in tabled_value's order. */
static void blocked_tabled(const float *blk, const roi_sample *p, int n, float *sum) {
    for (int l = 0; l < B; l++) sum[l] = 0.0f;
    for (int i = 0; i < n; i++, p++) {
        const float *c0 = blk + (int64_t)p->at[0] * B, *c1 = blk + (int64_t)p->at[1] * B,
                    *c2 = blk + (int64_t)p->at[2] * B, *c3 = blk + (int64_t)p->at[3] * B;
#pragma omp simd
        for (int l = 0; l < B; l++) sum[l] += p->w[0] * c0[l] + p->w[1] * c1[l] + p->w[2] * c2[l] + p->w[3] * c3[l];
    }
}

/* The same without a table, in bin_value's order (RoIs whose adaptive grid
 * outgrows the table). */
static void blocked_untabled(const float *blk, int64_t w, const lerp_axis *ys, const lerp_axis *xs, int ph, int pw,
                             float *sum) {
    for (int l = 0; l < B; l++) sum[l] = 0.0f;
    for (int iy = 0; iy < ys->grid; iy++) {
        wb_roi_lerp ly = lerp_of(ys, ph, iy);
        if (!ly.valid) continue;
        for (int ix = 0; ix < xs->grid; ix++) {
            wb_roi_lerp lx = lerp_of(xs, pw, ix);
            if (!lx.valid) continue;
            float w0 = ly.w_lo * lx.w_lo, w1 = ly.w_lo * lx.w_hi, w2 = ly.w_hi * lx.w_lo, w3 = ly.w_hi * lx.w_hi;
            const float *c0 = blk + (ly.lo * w + lx.lo) * B, *c1 = blk + (ly.lo * w + lx.hi) * B,
                        *c2 = blk + (ly.hi * w + lx.lo) * B, *c3 = blk + (ly.hi * w + lx.hi) * B;
#pragma omp simd
            for (int l = 0; l < B; l++) sum[l] += w0 * c0[l] + w1 * c1[l] + w2 * c2[l] + w3 * c3[l];
        }
    }
}

/* The forward over features in the blocked layout (kernels_layout.h): each
 * tap of a block is 16 contiguous channels, so it vectorises as the
 * channels-last copy does, without the copy (nor the conversion to NCHW
 * before it). A RoI's samples are tabled once for all its blocks. */
void wb_cpu_roi_align_forward_blocked(const float *feat, const float *rois, const wb_roi_args *a,
                                      const int64_t *rows, float *y) {
    int64_t plane = a->h * a->w, bins = (int64_t)a->out_h * a->out_w, blocks = a->c / B;
    roi_order *order = spatial_order(rois, a);
#pragma omp parallel if (a->k * a->c * bins > 4096)
    {
        roi_tables t;
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < a->k; i++) {
            int64_t k = order ? order[i].k : i;
            wb_roi_box b = tables_of(rois + 5 * k, a, &t);
            for (int64_t cb = 0; cb < blocks; cb++) {
                const float *blk = feat + (b.batch * blocks + cb) * plane * B;
                float *out = y + ((rows ? rows[k] : k) * a->c + cb * B) * bins;
                for (int ph = 0; ph < a->out_h; ph++) {
                    for (int pw = 0; pw < a->out_w; pw++) {
                        int bin = ph * a->out_w + pw;
                        float sum[B];
                        if (t.tabled)
                            blocked_tabled(blk, t.samples + t.first[bin], t.first[bin + 1] - t.first[bin], sum);
                        else
                            blocked_untabled(blk, a->w, &t.ys, &t.xs, ph, pw, sum);
                        for (int l = 0; l < B; l++) out[l * bins + bin] = sum[l] / b.count;
                    }
                }
            }
        }
    }
    free(order);
}

static void scatter_bin(float *plane, int64_t w, const lerp_axis *ys, const lerp_axis *xs, int ph, int pw, float g,
                        float count) {
    for (int iy = 0; iy < ys->grid; iy++) {
        wb_roi_lerp ly = lerp_of(ys, ph, iy);
        if (!ly.valid) continue;
        float *r0 = plane + ly.lo * w, *r1 = plane + ly.hi * w;
        for (int ix = 0; ix < xs->grid; ix++) {
            wb_roi_lerp lx = lerp_of(xs, pw, ix);
            if (!lx.valid) continue;
            r0[lx.lo] += g * (ly.w_lo * lx.w_lo) / count;
            r0[lx.hi] += g * (ly.w_lo * lx.w_hi) / count;
            r1[lx.lo] += g * (ly.w_hi * lx.w_lo) / count;
            r1[lx.hi] += g * (ly.w_hi * lx.w_hi) / count;
        }
    }
}

/* The backward's per-RoI table: the forward's samples flat by tap (4 per
 * sample, in the reference's order), and one channel's scaled gradients. */
typedef struct tap_table {
    int32_t at[4 * SAMPLE_TABLE_MAX];
    float w[4 * SAMPLE_TABLE_MAX], val[4 * SAMPLE_TABLE_MAX];
} tap_table;

static void flatten_taps(const roi_sample *samples, int n, tap_table *t) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 4; j++) t->at[4 * i + j] = samples[i].at[j], t->w[4 * i + j] = samples[i].w[j];
}

/* One channel's scatter-adds: the reference's g * w / count of every tap
 * first, a bin at a time (vectorised: the division per tap was the costly
 * part), then the adds in the reference's order. */
static void scatter_tabled(float *dst, const float *g, const int *first, int bins, float count, tap_table *t) {
    for (int bin = 0; bin < bins; bin++) {
        float gb = g[bin];
        for (int i = 4 * first[bin]; i < 4 * first[bin + 1]; i++) t->val[i] = gb * t->w[i] / count;
    }
    for (int i = 0, n = 4 * first[bins]; i < n; i++) dst[t->at[i]] += t->val[i];
}

/* Channels a thread scatters into per pass over the RoIs: their planes stay
 * in its L2 cache while every RoI adds to them (RoI-major order missed the
 * cache on each RoI's region of each channel). */
#define BLOCK_BYTES ((int64_t)1 << 20)

void wb_cpu_roi_align_backward(const float *dy, const float *rois, const wb_roi_args *a, float *dfeat) {
    int64_t plane = a->h * a->w, bins = (int64_t)a->out_h * a->out_w;
    int64_t block = BLOCK_BYTES / (plane * (int64_t)sizeof(float));
    block = block > 0 ? block : 1;
#pragma omp parallel if (a->k * a->c * bins > 4096)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        int64_t c0 = a->c * t / nt, c1 = a->c * (t + 1) / nt;
        for (int64_t n = 0; n < a->n; n++)
            memset(dfeat + (n * a->c + c0) * plane, 0, (size_t)((c1 - c0) * plane) * sizeof(float));
        wb_roi_lerp ytab[LERP_TABLE_MAX], xtab[LERP_TABLE_MAX];
        /* off the stack (several hundred KiB); without them every RoI takes the untabled path */
        roi_sample *samples = malloc(SAMPLE_TABLE_MAX * sizeof *samples);
        tap_table *taps = malloc(sizeof *taps);
        int first[BINS_MAX + 1];
        for (int64_t cb = c0; cb < c1; cb += block) {
            int64_t ce = cb + block < c1 ? cb + block : c1;
            for (int64_t k = 0; k < a->k; k++) {
                wb_roi_box b = wb_roi_align_box(rois + 5 * k, a);
                lerp_axis ys = axis_of(ytab, b.start_h, b.bin_h, b.grid_h, a->out_h, a->h);
                lerp_axis xs = axis_of(xtab, b.start_w, b.bin_w, b.grid_w, a->out_w, a->w);
                bool tabled = samples && taps && sample_table(&ys, &xs, a, samples, first);
                if (tabled) flatten_taps(samples, first[bins], taps);
                for (int64_t ch = cb; ch < ce; ch++) {
                    float *dst = dfeat + (b.batch * a->c + ch) * plane;
                    const float *g = dy + (k * a->c + ch) * bins;
                    if (tabled) {
                        scatter_tabled(dst, g, first, (int)bins, b.count, taps);
                        continue;
                    }
                    for (int ph = 0; ph < a->out_h; ph++)
                        for (int pw = 0; pw < a->out_w; pw++)
                            scatter_bin(dst, a->w, &ys, &xs, ph, pw, g[ph * a->out_w + pw], b.count);
                }
            }
        }
        free(samples);
        free(taps);
    }
}
