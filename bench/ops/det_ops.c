/* RoIAlign, RoIPool and GroupNorm rows of bench_ops (see det_ops.h). The
 * RoIs come from a formula torch_det_ops.py repeats, so both sides pool the
 * same boxes. */
#include "det_ops.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/families.h"
#include "backends/kernels_gather.h"
#include "backends/kernels_norm.h"
#include "torch_peer.h"

static const char *const PASSES[2] = {"fwd", "bwd"};

typedef enum det_kind { ROI_ALIGN, ROI_POOL, GROUP_NORM } det_kind;

typedef struct det_row {
    const char *name;
    det_kind kind;
    int n, c, h, w;
    int k, out, sampling, aligned; /* RoI ops: RoIs, output size, align parameters */
    float scale;                   /* RoI ops: spatial scale; image side = h / scale */
    int groups;                    /* group norm */
} det_row;

static const det_row ROWS[] = {
    /* torchvision Faster R-CNN's box head: 512 sampled RoIs per image, 7x7, sampling 2, legacy alignment, on P2. */
    {"roi_align 7x7 s2 P2 256ch", ROI_ALIGN, 2, 256, 128, 128, 1024, 7, 2, 0, 0.25f, 0},
    /* mmdetection's: aligned, adaptive sampling, on P3. */
    {"roi_align 7x7 adaptive P3 256ch", ROI_ALIGN, 2, 256, 64, 64, 1024, 7, 0, 1, 0.125f, 0},
    /* The Keras seed's RoI pooling: 14x14 on ResNet-50 C4 (1024 channels, stride 16). */
    {"roi_pool 14x14 C4 1024ch", ROI_POOL, 2, 1024, 32, 32, 256, 14, 0, 0, 0.0625f, 0},
    /* FCOS towers: GroupNorm(32, 256) on P3 and P5 at 512x512. */
    {"group_norm 32g 256ch @64", GROUP_NORM, 2, 256, 64, 64, 0, 0, 0, 0, 0.0f, 32},
    {"group_norm 32g 256ch @16", GROUP_NORM, 2, 256, 16, 16, 0, 0, 0, 0, 0.0f, 32},
};
#define N_ROWS ((int)(sizeof ROWS / sizeof *ROWS))

static float *filled(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "bench_ops: out of memory allocating %zu floats\n", n);
        exit(1);
    }
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    return p;
}

/* RoI k of the row: image k % n, corners from fixed multiplicative hashes,
 * 16 to 40% of the image wide. torch_det_ops.py computes the same. */
static void make_rois(const det_row *r, float *rois) {
    double img_h = r->h / r->scale, img_w = r->w / r->scale;
    for (int64_t k = 0; k < r->k; k++) {
        double fx = (double)((k * 7919) % 1000) / 1000.0, fy = (double)((k * 104729) % 1000) / 1000.0;
        double fw = (double)((k * 1299709) % 1000) / 1000.0, fh = (double)((k * 15485863) % 1000) / 1000.0;
        double x1 = fx * 0.7 * img_w, y1 = fy * 0.7 * img_h;
        rois[5 * k] = (float)(k % r->n);
        rois[5 * k + 1] = (float)x1;
        rois[5 * k + 2] = (float)y1;
        rois[5 * k + 3] = (float)(x1 + 16.0 + fw * 0.4 * img_w);
        rois[5 * k + 4] = (float)(y1 + 16.0 + fh * 0.4 * img_h);
    }
}

typedef struct det_buffers {
    float *x, *y, *dy, *dx, *rois, *mean, *rstd, *gamma, *beta, *dgamma, *dbeta;
    int32_t *argmax;
} det_buffers;

static void run(const det_row *r, int pass, det_buffers *b) {
    wb_roi_args a = {.n = r->n, .c = r->c, .h = r->h, .w = r->w, .k = r->k, .out_h = r->out, .out_w = r->out,
                     .spatial_scale = r->scale, .sampling_ratio = r->sampling, .aligned = r->aligned};
    wb_gn_args g = {.n = r->n, .c = r->c, .hw = (int64_t)r->h * r->w, .groups = r->groups, .eps = 1e-5f};
    const wb_gather_kernels *gk = wb_cpu_gather_kernels();
    const wb_norm_kernels *nk = wb_cpu_norm_kernels();
    switch (r->kind) {
    case ROI_ALIGN:
        if (pass == 0) gk->roi_align_forward(b->x, b->rois, &a, b->y);
        else gk->roi_align_backward(b->dy, b->rois, &a, b->dx);
        break;
    case ROI_POOL:
        if (pass == 0) gk->roi_pool_forward(b->x, b->rois, &a, b->y, b->argmax);
        else gk->roi_pool_backward(b->dy, b->rois, b->argmax, &a, b->dx);
        break;
    case GROUP_NORM:
        if (pass == 0) nk->group_norm_forward(b->x, b->gamma, b->beta, &g, b->y, b->mean, b->rstd);
        else nk->group_norm_backward(b->dy, b->x, b->gamma, b->mean, b->rstd, &g, b->dx, b->dgamma, b->dbeta);
        break;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Best milliseconds of reps calls after a warm-up, as the conv rows. */
static double time_pass(const det_row *r, int pass, det_buffers *b, int reps) {
    double t[64];
    if (reps > 64) reps = 64;
    run(r, pass, b);
    for (int i = 0; i < reps; i++) {
        double t0 = omp_get_wtime();
        run(r, pass, b);
        t[i] = (omp_get_wtime() - t0) * 1e3;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    return t[0];
}

static det_buffers alloc_row(const det_row *r) {
    size_t x = (size_t)r->n * r->c * r->h * r->w;
    size_t y = r->kind == GROUP_NORM ? x : (size_t)r->k * r->c * r->out * r->out;
    det_buffers b = {filled(x), filled(y), filled(y), filled(x), filled((size_t)r->k * 5), filled((size_t)r->n * 32),
                     filled((size_t)r->n * 32), filled((size_t)r->c), filled((size_t)r->c), filled((size_t)r->c),
                     filled((size_t)r->c), malloc((y ? y : 1) * sizeof(int32_t))};
    if (!b.argmax) exit(1);
    if (r->kind != GROUP_NORM) make_rois(r, b.rois);
    return b;
}

static void free_row(det_buffers *b) {
    float *all[] = {b->x, b->y, b->dy, b->dx, b->rois, b->mean, b->rstd, b->gamma, b->beta, b->dgamma, b->dbeta};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]);
    free(b->argmax);
}

void bench_det_ops(int threads, int reps, int with_torch, const char *only) {
    torch_peer torch = {0};
    if (with_torch && !torch_peer_start(&torch, "torch_det_ops.py", threads, reps)) {
        fprintf(stderr, "bench_ops: cannot start torch_det_ops.py; torch columns stay empty\n");
        with_torch = 0;
    }
    printf("\n%-34s %-5s %9s %9s %7s\n", "detection op (batch 2)", "pass", "ms", "torch ms", "ratio");
    for (int i = 0; i < N_ROWS; i++) {
        const det_row *r = &ROWS[i];
        if (only && !strstr(r->name, only)) continue;
        double torch_ms[2] = {0, 0};
        char line[256];
        snprintf(line, sizeof line, "%d %d %d %d %d %d %d %d %d %d %.9g %d", i, (int)r->kind, r->n, r->c, r->h, r->w,
                 r->k, r->out, r->sampling, r->aligned, (double)r->scale, r->groups);
        if (with_torch && !torch_peer_query(&torch, line, i, PASSES, 2, torch_ms)) {
            fprintf(stderr, "bench_ops: torch_det_ops.py stopped answering; torch columns stay empty\n");
            with_torch = 0;
        }
        det_buffers b = alloc_row(r);
        for (int q = 0; q < 2; q++) {
            double ms = time_pass(r, q, &b, reps);
            printf("%-34s %-5s %9.3f", r->name, PASSES[q], ms);
            if (torch_ms[q] > 0) printf(" %9.3f %7.2f\n", torch_ms[q], torch_ms[q] / ms);
            else printf(" %9s %7s\n", "-", "-");
        }
        free_row(&b);
    }
    torch_peer_stop(&torch);
}
