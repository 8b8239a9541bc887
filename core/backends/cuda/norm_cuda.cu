/* The CUDA norm family: group norm. Statistics per (sample, group), and the
 * backward's sums per (sample, channel), come from the deterministic
 * two-level sums of segment_reduce.h; the math is gn_math.h's. */
#include "cuda_families.h"
#include "gn_math.h"
#include "kernel_loop.cuh"
#include "segment_reduce_cuda.h"

namespace {

__global__ void gn_mean_kernel(wb_segments g, const double *partials, double *mean) {
    int64_t chunks = wb_segment_chunks(&g);
    WB_CUDA_FOR_EACH(s, g.count) mean[s] = wb_red_total(partials, s, chunks, 0) / (double)g.len;
}

__global__ void gn_finalize_kernel(wb_gn_args a, wb_segments g, const double *partials, const double *mean_d,
                                   double *rstd_d, float *mean, float *rstd) {
    int64_t chunks = wb_segment_chunks(&g);
    WB_CUDA_FOR_EACH(s, g.count) {
        rstd_d[s] = wb_gn_rstd(&a, wb_red_total(partials, s, chunks, 0), g.len);
        mean[s] = (float)mean_d[s];
        rstd[s] = (float)rstd_d[s];
    }
}

__global__ void gn_normalize_kernel(wb_gn_args a, const float *x, const float *gamma, const float *beta,
                                    const double *mean, const double *rstd, float *y) {
    WB_CUDA_FOR_EACH(k, a.n * a.c * a.hw) {
        int64_t s = wb_gn_group_of(&a, k), ch = wb_gn_channel(&a, k);
        y[k] = wb_gn_normalize(x[k], mean[s], rstd[s], gamma ? gamma[ch] : 1.0, beta ? beta[ch] : 0.0);
    }
}

/* sums [2][N * C]: per (sample, channel) sum of dy, then of dy * xhat. */
__global__ void gn_channel_sums_kernel(wb_segments g, const double *partials, double *sums) {
    int64_t chunks = wb_segment_chunks(&g);
    WB_CUDA_FOR_EACH(s, g.count) {
        sums[s] = wb_red_total(partials, s, chunks, 0);
        sums[g.count + s] = wb_red_total(partials, s, chunks, 1);
    }
}

__global__ void gn_param_grads_kernel(wb_gn_args a, const double *sums, float *dgamma, float *dbeta) {
    WB_CUDA_FOR_EACH(ch, a.c) {
        if (dgamma) dgamma[ch] = wb_gn_param_grad(&a, sums + a.n * a.c, ch);
        if (dbeta) dbeta[ch] = wb_gn_param_grad(&a, sums, ch);
    }
}

/* group_sums [2][N * groups]: per (sample, group) sum of dy * gamma, then of dy * gamma * xhat. */
__global__ void gn_group_sums_kernel(wb_gn_args a, const float *gamma, const double *sums, double *group_sums) {
    int64_t count = a.n * a.groups;
    WB_CUDA_FOR_EACH(s, count) {
        wb_gn_group_sums(&a, gamma, sums, sums + a.n * a.c, s / a.groups, s % a.groups, &group_sums[s],
                         &group_sums[count + s]);
    }
}

__global__ void gn_dx_kernel(wb_gn_args a, const float *dy, const float *x, const float *gamma, const float *mean,
                             const float *rstd, const double *group_sums, float *dx) {
    int64_t count = a.n * a.groups, len = wb_gn_channels_per_group(&a) * a.hw;
    WB_CUDA_FOR_EACH(k, a.n * a.c * a.hw) {
        int64_t s = wb_gn_group_of(&a, k), ch = wb_gn_channel(&a, k);
        dx[k] = wb_gn_dx(dy[k], x[k], mean[s], rstd[s], gamma ? gamma[ch] : 1.0, group_sums[s],
                         group_sums[count + s], len);
    }
}

void gn_forward(const float *x, const float *gamma, const float *beta, const wb_gn_args *a, float *y, float *mean,
                float *rstd) {
    wb_segments g = wb_gn_group_segments(a);
    if (g.count <= 0) return;
    size_t pbytes = wb_segment_partials_bytes(&g), sbytes = (size_t)g.count * 2 * sizeof(double);
    double *partials = (double *)wb_cuda_scratch_or_fail(pbytes, "group norm partial sums");
    double *stats = (double *)wb_cuda_scratch_or_fail(sbytes, "group norm statistics");
    double *mean_d = stats, *rstd_d = stats + g.count;
    wb_cuda_segment_sums(&g, x, partials);
    wb_cuda_launch(gn_mean_kernel, g.count, g, (const double *)partials, mean_d);
    wb_cuda_segment_sqdev(&g, x, mean_d, partials);
    wb_cuda_launch(gn_finalize_kernel, g.count, *a, g, (const double *)partials, (const double *)mean_d, rstd_d,
                   mean, rstd);
    wb_cuda_launch(gn_normalize_kernel, a->n * a->c * a->hw, *a, x, gamma, beta, (const double *)mean_d,
                   (const double *)rstd_d, y);
    wb_cuda_scratch_free(stats, sbytes);
    wb_cuda_scratch_free(partials, pbytes);
}

void gn_backward(const float *dy, const float *x, const float *gamma, const float *mean, const float *rstd,
                 const wb_gn_args *a, float *dx, float *dgamma, float *dbeta) {
    wb_segments g = wb_gn_channel_segments(a);
    if (g.count <= 0) return;
    int64_t groups = a->n * a->groups;
    size_t pbytes = wb_segment_partials_bytes(&g), sbytes = (size_t)(g.count + groups) * 2 * sizeof(double);
    double *partials = (double *)wb_cuda_scratch_or_fail(pbytes, "group norm backward partial sums");
    double *sums = (double *)wb_cuda_scratch_or_fail(sbytes, "group norm backward sums");
    double *group_sums = sums + 2 * g.count;
    wb_cuda_segment_grad_sums(&g, dy, x, mean, rstd, partials);
    wb_cuda_launch(gn_channel_sums_kernel, g.count, g, (const double *)partials, sums);
    if (dgamma || dbeta) wb_cuda_launch(gn_param_grads_kernel, a->c, *a, (const double *)sums, dgamma, dbeta);
    if (dx) {
        wb_cuda_launch(gn_group_sums_kernel, groups, *a, gamma, (const double *)sums, group_sums);
        wb_cuda_launch(gn_dx_kernel, a->n * a->c * a->hw, *a, dy, x, gamma, mean, rstd, (const double *)group_sums,
                       dx);
    }
    wb_cuda_scratch_free(sums, sbytes);
    wb_cuda_scratch_free(partials, pbytes);
}

// No backward from the output yet: group_norm keeps its input on this backend; group_norm_act runs the two ops.
const wb_norm_kernels g_cuda_norm = {gn_forward, gn_backward, nullptr, nullptr, nullptr};

}  // namespace

extern "C" const wb_norm_kernels *wb_cuda_norm_kernels(void) { return &g_cuda_norm; }
