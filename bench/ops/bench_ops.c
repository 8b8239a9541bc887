/* bench_ops: conv2d forward, backward-data and backward-weights of the CPU
 * backend on ResNet-50, FPN and MobileNetV3 depthwise shapes, next to
 * PyTorch on the same shapes in the same run (bench/ops/torch_conv.py),
 * against this machine's fp32 peak; then the detection ops (RoIAlign,
 * RoIPool, GroupNorm) next to torchvision / torch (det_ops.c).
 * Usage: bench_ops [--threads N] [--reps N] [--no-torch] [--only TEXT] */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

#include "backends/cpu/dnnl_common.h"
#include "backends/families.h"
#include "conv_shapes.h"
#include "det_ops.h"
#include "fp32_peak.h"
#include "torch_peer.h"

enum { FWD = 0, BWD_DATA = 1, BWD_WEIGHTS = 2, N_PASSES = 3 };
static const char *const PASS_NAMES[N_PASSES] = {"fwd", "bwd_data", "bwd_weights"};

typedef struct buffers {
    float *x, *w, *b, *y, *dx, *dw, *db;
} buffers;

static float *filled(size_t n) {
    float *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "bench_ops: out of memory allocating %zu floats\n", n);
        exit(1);
    }
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    return p;
}

/* Buffers big enough for every shape of the table. */
static buffers alloc_buffers(const bench_conv *shapes, int n) {
    size_t mx = 0, mw = 0, my = 0, mo = 0;
    for (int i = 0; i < n; i++) {
        const wb_conv_shape *s = &shapes[i].shape;
        size_t x = (size_t)(s->n * s->c_in * s->h_in * s->w_in);
        size_t y = (size_t)(s->n * s->c_out * s->h_out * s->w_out);
        size_t w = (size_t)(s->c_out * (s->c_in / s->groups) * s->k_h * s->k_w);
        mx = x > mx ? x : mx, my = y > my ? y : my, mw = w > mw ? w : mw;
        mo = (size_t)s->c_out > mo ? (size_t)s->c_out : mo;
    }
    return (buffers){filled(mx), filled(mw), filled(mo), filled(my), filled(mx), filled(mw), filled(mo)};
}

static int run_pass(const wb_conv_kernels *k, int pass, const wb_conv_shape *s, buffers *b) {
    switch (pass) {
    case FWD: return k->forward(s, b->x, b->w, b->b, b->y);
    case BWD_DATA: return k->backward_data(s, b->y, b->w, b->dx);
    default: return k->backward_weights(s, b->x, b->y, b->dw, b->db);
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Best milliseconds of `reps` calls after one warm-up call (which creates
 * the primitives): the least disturbed run on a shared machine, taken the
 * same way on the torch side. Negative when the kernel fails. */
static double time_pass(const wb_conv_kernels *k, int pass, const wb_conv_shape *s, buffers *b, int reps) {
    double t[64];
    if (reps > 64) reps = 64;
    if (run_pass(k, pass, s, b) != WB_OK) return -1.0;
    for (int r = 0; r < reps; r++) {
        double t0 = omp_get_wtime();
        run_pass(k, pass, s, b);
        t[r] = (omp_get_wtime() - t0) * 1e3;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    return t[0];
}

static bool torch_time(torch_peer *t, int idx, const wb_conv_shape *s, double ms[N_PASSES]) {
    char line[256];
    snprintf(line, sizeof line, "%d %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld", idx,
             (long long)s->n, (long long)s->c_in, (long long)s->h_in, (long long)s->w_in, (long long)s->c_out,
             (long long)s->k_h, (long long)s->k_w, (long long)s->stride_h, (long long)s->stride_w,
             (long long)s->pad_h, (long long)s->pad_w, (long long)s->dil_h, (long long)s->dil_w,
             (long long)s->groups);
    return torch_peer_query(t, line, idx, PASS_NAMES, N_PASSES, ms);
}

int main(int argc, char **argv) {
    int threads = 2, reps = 10, with_torch = 1;
    const char *only = NULL; /* run only shapes whose name contains this */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-torch") == 0) with_torch = 0;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else {
            fprintf(stderr, "usage: bench_ops [--threads N] [--reps N] [--no-torch] [--only TEXT]\n");
            return 2;
        }
    }
    if (threads < 1 || reps < 1) {
        fprintf(stderr, "bench_ops: --threads and --reps must be >= 1\n");
        return 2;
    }
    wb_dnnl_set_threads(threads);
    int n;
    const bench_conv *shapes = bench_conv_shapes(&n);
    const char *isa;
    double peak = fp32_peak_gflops(threads, &isa);
    printf("fp32 peak with %d threads (%s FMA loop): %.1f GFLOP/s\n\n", threads, isa, peak);

    torch_peer torch = {0};
    if (with_torch && !torch_peer_start(&torch, "torch_conv.py", threads, reps)) {
        fprintf(stderr, "bench_ops: cannot start torch_conv.py; torch columns stay empty\n");
        with_torch = 0;
    }

    buffers b = alloc_buffers(shapes, n);
    const wb_conv_kernels *k = wb_cpu_conv_kernels();
    printf("GFLOP/s and %%peak count direct-convolution FLOPs (2*MACs); 3x3 stride-1 shapes run\n"
           "Winograd, which does fewer, so their effective rate can pass the peak.\n\n");
    printf("%-26s %-12s %9s %9s %7s %9s %7s\n", "shape (batch 2)", "pass", "ms", "GFLOP/s", "%peak",
           "torch ms", "ratio");
    double res_ms = 0, res_torch_ms = 0, res_flops = 0, worst_ratio = INFINITY;
    for (int i = 0; i < n; i++) {
        const wb_conv_shape *s = &shapes[i].shape;
        if (only && !strstr(shapes[i].name, only)) continue;
        double flops = bench_conv_flops(s), torch_ms[N_PASSES] = {0};
        if (with_torch && !torch_time(&torch, i, s, torch_ms)) {
            fprintf(stderr, "bench_ops: torch_conv.py stopped answering; torch columns stay empty\n");
            with_torch = 0;
        }
        for (int q = 0; q < N_PASSES; q++) {
            double ms = time_pass(k, q, s, &b, reps);
            if (ms < 0) {
                printf("%-26s %-12s   kernel failed\n", shapes[i].name, PASS_NAMES[q]);
                continue;
            }
            double gf = flops / ms * 1e-6, tms = torch_ms[q];
            printf("%-26s %-12s %9.3f %9.1f %6.1f%%", shapes[i].name, PASS_NAMES[q], ms, gf, 100.0 * gf / peak);
            if (tms > 0) {
                printf(" %9.3f %7.2f\n", tms, tms / ms);
                if (tms / ms < worst_ratio) worst_ratio = tms / ms;
            } else {
                printf(" %9s %7s\n", "-", "-");
            }
            if (q == FWD && shapes[i].resnet_count > 0) {
                res_ms += shapes[i].resnet_count * ms;
                res_torch_ms += shapes[i].resnet_count * tms;
                res_flops += shapes[i].resnet_count * flops;
            }
        }
    }
    if (res_ms > 0) {
        double res_gf = res_flops / res_ms * 1e-6;
        printf("\nResNet-50 conv layers forward (%s, batch 2, 512x512): %.1f ms, %.1f GFLOP/s, %.1f%% of peak",
               only ? "the selected shapes only" : "all 53 convs", res_ms, res_gf, 100.0 * res_gf / peak);
        if (res_torch_ms > 0) printf("; torch %.1f ms, ratio %.2f", res_torch_ms, res_torch_ms / res_ms);
        printf("\n");
    }
    if (worst_ratio < INFINITY) printf("worst per-shape ratio torch/ours: %.2f\n", worst_ratio);
    torch_peer_stop(&torch);
    bench_det_ops(threads, reps, with_torch, only);
    return 0;
}
