/* CUDA optimizer kernels: one launch per call over the whole flat buffer,
 * each element updated by optim_math.h's expressions; sum_squares is the
 * fixed-order double tree of tree_reduce.h, so the global gradient norm is
 * the same on every run. */
#include "cuda_families.h"
#include "kernel_loop.cuh"
#include "optim_math.h"
#include "tree_reduce.cuh"

namespace {

/* The momentum buffer is only touched (and may be NULL) without momentum. */
__global__ void sgd_k(float *p, const float *g, float *buf, int64_t n, wb_sgd_args a) {
    bool has_buf = a.momentum != 0.0f;
    WB_CUDA_FOR_EACH(i, n) {
        float pv = p[i], bv = has_buf ? buf[i] : 0.0f;
        wb_sgd_elem(&pv, g[i], &bv, a);
        p[i] = pv;
        if (has_buf) buf[i] = bv;
    }
}

__global__ void adamw_k(float *p, const float *g, float *m, float *v, int64_t n, wb_adamw_step s) {
    WB_CUDA_FOR_EACH(i, n) {
        float pv = p[i], mv = m[i], vv = v[i];
        wb_adamw_elem(&pv, g[i], &mv, &vv, &s);
        p[i] = pv;
        m[i] = mv;
        v[i] = vv;
    }
}

__global__ void scale_k(float *x, int64_t n, float s) {
    WB_CUDA_FOR_EACH(i, n) x[i] *= s;
}

__global__ void ema_k(float *avg, const float *x, int64_t n, float momentum) {
    WB_CUDA_FOR_EACH(i, n) avg[i] = wb_ema_elem(avg[i], x[i], momentum);
}

struct square_term {
    const float *x;
    __device__ double operator()(int64_t, int64_t k) const { return (double)x[k] * x[k]; }
};

struct store_double {
    double *out;
    __device__ void operator()(int64_t, double sum) const { out[0] = sum; }
};

void sgd(float *param, const float *grad, float *momentum_buf, int64_t n, const wb_sgd_args *a) {
    wb_cuda_launch(sgd_k, n, param, grad, momentum_buf, n, *a);
}

void adamw(float *param, const float *grad, float *m, float *v, int64_t n, const wb_adamw_args *a) {
    wb_cuda_launch(adamw_k, n, param, grad, m, v, n, wb_adamw_step_of(a));
}

/* The sum is a host value: this waits for the compute stream. */
double sum_squares(const float *x, int64_t n) {
    if (n <= 0) return 0.0;
    cudaStream_t st = wb_cuda_compute_stream();
    double host = 0.0, *dev = (double *)wb_cuda_scratch_alloc(sizeof host);
    wb_tree_sum(1, n, square_term{x}, store_double{dev});
    WB_CUDA_CHECK(cudaMemcpyAsync(&host, dev, sizeof host, cudaMemcpyDeviceToHost, st));
    WB_CUDA_CHECK(cudaStreamSynchronize(st));
    wb_cuda_scratch_free(dev, sizeof host);
    return host;
}

void scale(float *x, int64_t n, float s) { wb_cuda_launch(scale_k, n, x, n, s); }

void ema(float *avg, const float *x, int64_t n, float momentum) { wb_cuda_launch(ema_k, n, avg, x, n, momentum); }

const wb_optim_kernels g_cuda_optim = {
    .sgd = sgd,
    .adamw = adamw,
    .sum_squares = sum_squares,
    .scale = scale,
    .ema = ema,
};

} // namespace

const wb_optim_kernels *wb_cuda_optim_kernels(void) { return &g_cuda_optim; }
