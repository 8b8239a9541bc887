/* The CUDA dense family: batch norm (deterministic two-level statistics,
 * segment_reduce.h), pooling (per-output forwards, gathering backwards that
 * need no atomics, pool_math.h), the bias kernels, and the matrix product
 * from matmul_cublas.c. The math is in the WB_HD headers; these kernels
 * only map threads to elements. */
#include "bias_math.h"
#include "bn_math.h"
#include "cuda_families.h"
#include "dense_cuda.h"
#include "kernel_loop.cuh"
#include "pool_math.h"
#include "segment_reduce_cuda.h"

namespace {

/* ---- batch norm ---- */

__global__ void bn_mean_kernel(wb_bn_args a, const double *partials, int64_t chunks, double *mean) {
    WB_CUDA_FOR_EACH(ch, a.c) mean[ch] = wb_red_total(partials, ch, chunks, 0) / (double)(a.n * a.hw);
}

__global__ void bn_finalize_kernel(wb_bn_args a, const double *partials, int64_t chunks, const double *mean,
                                   float *save_mean, float *save_invstd, float *running_mean, float *running_var) {
    WB_CUDA_FOR_EACH(ch, a.c) {
        wb_bn_finalize(&a, ch, mean[ch], wb_red_total(partials, ch, chunks, 0), save_mean, save_invstd,
                       running_mean, running_var);
    }
}

__global__ void bn_eval_stats_kernel(wb_bn_args a, const float *running_mean, const float *running_var,
                                     float *save_mean, float *save_invstd) {
    WB_CUDA_FOR_EACH(ch, a.c) {
        save_mean[ch] = running_mean[ch];
        save_invstd[ch] = wb_bn_eval_invstd(&a, running_var[ch]);
    }
}

__global__ void bn_normalize_kernel(wb_bn_args a, const float *x, const float *gamma, const float *beta,
                                    const float *mean, const float *invstd, float *y) {
    WB_CUDA_FOR_EACH(k, a.n * a.c * a.hw) {
        int64_t ch = wb_bn_channel(&a, k);
        y[k] = wb_bn_normalize(x[k], mean[ch], invstd[ch], gamma ? gamma[ch] : 1.0f, beta ? beta[ch] : 0.0f);
    }
}

__global__ void bn_param_grads_kernel(wb_bn_args a, const double *partials, int64_t chunks, double *sums,
                                      float *dgamma, float *dbeta) {
    WB_CUDA_FOR_EACH(ch, a.c) {
        double sdy = wb_red_total(partials, ch, chunks, 0), sdy_xhat = wb_red_total(partials, ch, chunks, 1);
        sums[2 * ch] = sdy;
        sums[2 * ch + 1] = sdy_xhat;
        dgamma[ch] = (float)sdy_xhat;
        dbeta[ch] = (float)sdy;
    }
}

__global__ void bn_dx_kernel(wb_bn_args a, const float *dy, const float *x, const float *gamma, const float *mean,
                             const float *invstd, const double *sums, int training, float *dx) {
    WB_CUDA_FOR_EACH(k, a.n * a.c * a.hw) {
        int64_t ch = wb_bn_channel(&a, k);
        dx[k] = wb_bn_dx(&a, dy[k], x[k], mean[ch], invstd[ch], gamma ? gamma[ch] : 1.0f, sums[2 * ch],
                         sums[2 * ch + 1], training);
    }
}

void bn_train_forward(const float *x, const float *gamma, const float *beta, float *running_mean,
                      float *running_var, const wb_bn_args *a, float *y, float *save_mean, float *save_invstd) {
    if (a->c <= 0) return;
    wb_segments seg = wb_bn_segments(a);
    int64_t chunks = wb_segment_chunks(&seg);
    size_t pbytes = wb_segment_partials_bytes(&seg), mbytes = (size_t)a->c * sizeof(double);
    double *partials = (double *)wb_cuda_scratch_or_fail(pbytes, "batch norm partial sums");
    double *mean = (double *)wb_cuda_scratch_or_fail(mbytes, "batch norm means");
    wb_cuda_segment_sums(&seg, x, partials);
    wb_cuda_launch(bn_mean_kernel, a->c, *a, partials, chunks, mean);
    wb_cuda_segment_sqdev(&seg, x, mean, partials);
    wb_cuda_launch(bn_finalize_kernel, a->c, *a, partials, chunks, mean, save_mean, save_invstd, running_mean,
                   running_var);
    wb_cuda_launch(bn_normalize_kernel, a->n * a->c * a->hw, *a, x, gamma, beta, save_mean, save_invstd, y);
    wb_cuda_scratch_free(mean, mbytes);
    wb_cuda_scratch_free(partials, pbytes);
}

void bn_eval_forward(const float *x, const float *gamma, const float *beta, const float *running_mean,
                     const float *running_var, const wb_bn_args *a, float *y, float *save_mean, float *save_invstd) {
    wb_cuda_launch(bn_eval_stats_kernel, a->c, *a, running_mean, running_var, save_mean, save_invstd);
    wb_cuda_launch(bn_normalize_kernel, a->n * a->c * a->hw, *a, x, gamma, beta, (const float *)save_mean,
                   (const float *)save_invstd, y);
}

void bn_backward(const float *dy, const float *x, const float *gamma, const float *save_mean,
                 const float *save_invstd, const wb_bn_args *a, int training, float *dx, float *dgamma,
                 float *dbeta) {
    if (a->c <= 0) return;
    wb_segments seg = wb_bn_segments(a);
    int64_t chunks = wb_segment_chunks(&seg);
    size_t pbytes = wb_segment_partials_bytes(&seg), sbytes = (size_t)a->c * 2 * sizeof(double);
    double *partials = (double *)wb_cuda_scratch_or_fail(pbytes, "batch norm backward partial sums");
    double *sums = (double *)wb_cuda_scratch_or_fail(sbytes, "batch norm backward sums");
    wb_cuda_segment_grad_sums(&seg, dy, x, save_mean, save_invstd, partials);
    wb_cuda_launch(bn_param_grads_kernel, a->c, *a, (const double *)partials, chunks, sums, dgamma, dbeta);
    if (dx)
        wb_cuda_launch(bn_dx_kernel, a->n * a->c * a->hw, *a, dy, x, gamma, save_mean, save_invstd,
                       (const double *)sums, training, dx);
    wb_cuda_scratch_free(sums, sbytes);
    wb_cuda_scratch_free(partials, pbytes);
}

/* ---- pooling: outputs o of planes x oh x ow, inputs of planes x ih x iw ---- */

__global__ void max_pool_forward_kernel(wb_pool_args a, const float *x, float *y, int32_t *argmax) {
    int64_t out_plane = a.oh * a.ow;
    WB_CUDA_FOR_EACH(o, a.planes * out_plane) {
        int64_t p = o / out_plane, r = o % out_plane;
        y[o] = wb_max_pool_at(x + p * a.ih * a.iw, &a, r / a.ow, r % a.ow, &argmax[o]);
    }
}

__global__ void max_pool_backward_kernel(wb_pool_args a, const float *dy, const int32_t *argmax, float *dx) {
    int64_t in_plane = a.ih * a.iw, out_plane = a.oh * a.ow;
    WB_CUDA_FOR_EACH(i, a.planes * in_plane) {
        int64_t p = i / in_plane, r = i % in_plane;
        dx[i] = wb_max_pool_dx_at(dy + p * out_plane, argmax + p * out_plane, &a, r / a.iw, r % a.iw);
    }
}

__global__ void avg_pool_forward_kernel(wb_pool_args a, const float *x, float *y) {
    int64_t out_plane = a.oh * a.ow;
    WB_CUDA_FOR_EACH(o, a.planes * out_plane) {
        int64_t p = o / out_plane, r = o % out_plane;
        y[o] = wb_avg_pool_at(x + p * a.ih * a.iw, &a, r / a.ow, r % a.ow);
    }
}

__global__ void avg_pool_backward_kernel(wb_pool_args a, const float *dy, float *dx) {
    int64_t in_plane = a.ih * a.iw, out_plane = a.oh * a.ow;
    WB_CUDA_FOR_EACH(i, a.planes * in_plane) {
        int64_t p = i / in_plane, r = i % in_plane;
        dx[i] = wb_avg_pool_dx_at(dy + p * out_plane, &a, r / a.iw, r % a.iw);
    }
}

void max_pool_forward(const float *x, const wb_pool_args *a, float *y, int32_t *argmax) {
    wb_cuda_launch(max_pool_forward_kernel, a->planes * a->oh * a->ow, *a, x, y, argmax);
}

void max_pool_backward(const float *dy, const int32_t *argmax, const wb_pool_args *a, float *dx) {
    wb_cuda_launch(max_pool_backward_kernel, a->planes * a->ih * a->iw, *a, dy, argmax, dx);
}

void avg_pool_forward(const float *x, const wb_pool_args *a, float *y) {
    wb_cuda_launch(avg_pool_forward_kernel, a->planes * a->oh * a->ow, *a, x, y);
}

void avg_pool_backward(const float *dy, const wb_pool_args *a, float *dx) {
    wb_cuda_launch(avg_pool_backward_kernel, a->planes * a->ih * a->iw, *a, dy, dx);
}

/* ---- linear bias ---- */

__global__ void add_row_bias_kernel(float *y, const float *bias, int64_t rows, int64_t cols) {
    WB_CUDA_FOR_EACH(e, rows * cols) y[e] += bias[e % cols];
}

/* One thread per column: neighbouring threads read neighbouring columns of
 * each row, so the reads coalesce. */
__global__ void sum_rows_kernel(const float *dy, int64_t rows, int64_t cols, float *db) {
    WB_CUDA_FOR_EACH(j, cols) db[j] = wb_column_sum(dy, rows, cols, j);
}

void add_row_bias(float *y, const float *bias, int64_t rows, int64_t cols) {
    wb_cuda_launch(add_row_bias_kernel, rows * cols, y, bias, rows, cols);
}

void sum_rows(const float *dy, int64_t rows, int64_t cols, float *db) {
    wb_cuda_launch(sum_rows_kernel, cols, dy, rows, cols, db);
}

const wb_dense_kernels g_cuda_dense = {
    bn_train_forward, bn_eval_forward, bn_backward, max_pool_forward, max_pool_backward,
    avg_pool_forward, avg_pool_backward, wb_cuda_gemm, add_row_bias, sum_rows, nullptr, nullptr,
};

}  // namespace

extern "C" const wb_dense_kernels *wb_cuda_dense_kernels(void) { return &g_cuda_dense; }
