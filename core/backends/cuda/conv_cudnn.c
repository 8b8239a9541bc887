/* conv2d on cuDNN's legacy convolution API (docs/architecture.md says why
 * not the graph API), NCHW fp32. Each (shape, pass) gets a cached plan: the
 * descriptors and the algorithm cuDNN's heuristics rank first among those
 * whose workspace fits WB_CUDNN_WORKSPACE_LIMIT. Workspaces are scratch from the
 * caching allocator for the length of one call. Math is CUDNN_FMA_MATH,
 * plain fp32, unless wb_cuda_tf32() allows TF32 (CUDNN_DEFAULT_MATH, which
 * lets cuDNN use TF32 tensor cores on Ampere and later). One handle per
 * process, bound to the compute stream. */
#include <pthread.h>
#include <stdlib.h>
#include <cudnn.h>
#include "conv_plan_cache.h"
#include "cudnn_algo.h"
#include "cuda_context.h"
#include "cuda_families.h"


typedef struct conv_plan {
    cudnnTensorDescriptor_t x, y, bias;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    int algo; /* cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t of the plan's pass */
    size_t workspace;
} conv_plan;

static cudnnHandle_t g_handle;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
/* Guards the cache and the handle's stream binding for the length of a call
 * (the calls only enqueue work, so holding it is short). */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static wb_conv_plan_cache g_cache;

static void check(cudnnStatus_t st, const char *what, int line) {
    if (st != CUDNN_STATUS_SUCCESS) wb_cuda_fail(what, cudnnGetErrorString(st), __FILE__, line);
}
#define CUDNN_CHECK(call) check((call), #call, __LINE__)

static void plan_destroy(void *value) {
    conv_plan *p = value;
    cudnnDestroyTensorDescriptor(p->x);
    cudnnDestroyTensorDescriptor(p->y);
    cudnnDestroyTensorDescriptor(p->bias);
    cudnnDestroyFilterDescriptor(p->w);
    cudnnDestroyConvolutionDescriptor(p->conv);
    free(p);
}

static void create_handle(void) {
    CUDNN_CHECK(cudnnCreate(&g_handle));
    g_cache.destroy = plan_destroy;
}

/* The handle, bound to the current compute stream on every call (cheap next
 * to a convolution, and right even if the runtime made a new stream). */
static cudnnHandle_t handle(void) {
    pthread_once(&g_once, create_handle);
    CUDNN_CHECK(cudnnSetStream(g_handle, wb_cuda_compute_stream()));
    return g_handle;
}

static void describe(conv_plan *p, const wb_cudnn_dims *d, bool tf32) {
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->x));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->bias));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->conv));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->x[0], d->x[1], d->x[2],
                                           d->x[3]));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->y[0], d->y[1], d->y[2],
                                           d->y[3]));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, d->y[1], 1, 1));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, d->w[0], d->w[1], d->w[2],
                                           d->w[3]));
    /* CROSS_CORRELATION: torch's conv2d does not flip the kernel. */
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->conv, d->pad[0], d->pad[1], d->stride[0], d->stride[1], d->dil[0],
                                                d->dil[1], CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionGroupCount(p->conv, d->groups));
    CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
}

/* The cached plan of (shape, pass), made on first use. The caller holds
 * g_lock. */
static wb_status plan_for(cudnnHandle_t h, const wb_conv_shape *s, int64_t pass, const conv_plan **out) {
    wb_conv_plan_key key = {*s, pass, wb_cuda_tf32() ? 1 : 0};
    wb_status st = WB_OK;
    conv_plan *p = wb_conv_plan_find(&g_cache, &key);
    if (!p) {
        wb_cudnn_dims d;
        if (!wb_cudnn_dims_of(s, &d)) {
            st = WB_ERR_UNSUPPORTED;
        } else if (!(p = calloc(1, sizeof *p))) {
            st = WB_ERR_NOMEM;
        } else {
            describe(p, &d, key.tf32);
            if (wb_cudnn_choose_algo(h, p->x, p->w, p->conv, p->y, pass, &p->algo, &p->workspace)) {
                wb_conv_plan_insert(&g_cache, &key, p);
            } else {
                plan_destroy(p);
                p = NULL;
                st = WB_ERR_UNSUPPORTED;
            }
        }
    }
    *out = p;
    return st;
}

static const float ONE = 1.0f, ZERO = 0.0f;

/* The operands of one pass (those it does not use are NULL). */
typedef struct conv_call {
    const wb_conv_shape *s;
    const float *x, *w, *dy, *b;
    float *y, *dx, *dw, *db;
} conv_call;

static void run_pass(cudnnHandle_t h, const conv_plan *p, int64_t pass, const conv_call *c, void *ws) {
    if (pass == WB_CONV_PASS_FORWARD) {
        CUDNN_CHECK(cudnnConvolutionForward(h, &ONE, p->x, c->x, p->w, c->w, p->conv,
                                            (cudnnConvolutionFwdAlgo_t)p->algo, ws, p->workspace, &ZERO, p->y,
                                            c->y));
        if (c->b) CUDNN_CHECK(cudnnAddTensor(h, &ONE, p->bias, c->b, &ONE, p->y, c->y));
    } else if (pass == WB_CONV_PASS_BACKWARD_DATA) {
        CUDNN_CHECK(cudnnConvolutionBackwardData(h, &ONE, p->w, c->w, p->y, c->dy, p->conv,
                                                 (cudnnConvolutionBwdDataAlgo_t)p->algo, ws, p->workspace, &ZERO,
                                                 p->x, c->dx));
    } else {
        CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, &ONE, p->x, c->x, p->y, c->dy, p->conv,
                                                   (cudnnConvolutionBwdFilterAlgo_t)p->algo, ws, p->workspace,
                                                   &ZERO, p->w, c->dw));
        if (c->db) CUDNN_CHECK(cudnnConvolutionBackwardBias(h, &ONE, p->y, c->dy, &ZERO, p->bias, c->db));
    }
}

/* An empty batch: cuDNN refuses zero-sized descriptors, and the only
 * output with elements is the weight gradient, which is zero. */
static void empty_batch(int64_t pass, const conv_call *c) {
    if (pass != WB_CONV_PASS_BACKWARD_WEIGHTS) return;
    const wb_conv_shape *s = c->s;
    cudaStream_t st = wb_cuda_compute_stream();
    size_t dw_bytes = (size_t)(s->c_out * (s->c_in / s->groups) * s->k_h * s->k_w) * sizeof(float);
    WB_CUDA_CHECK(cudaMemsetAsync(c->dw, 0, dw_bytes, st));
    if (c->db) WB_CUDA_CHECK(cudaMemsetAsync(c->db, 0, (size_t)s->c_out * sizeof(float), st));
}

static wb_status conv_pass(int64_t pass, const conv_call *c) {
    if (c->s->n == 0) {
        empty_batch(pass, c);
        return WB_OK;
    }
    pthread_mutex_lock(&g_lock);
    cudnnHandle_t h = handle();
    const conv_plan *p;
    wb_status st = plan_for(h, c->s, pass, &p);
    void *ws = NULL;
    if (st == WB_OK && p->workspace && !(ws = wb_cuda_scratch_alloc(p->workspace))) st = WB_ERR_NOMEM;
    if (st == WB_OK) run_pass(h, p, pass, c, ws);
    if (ws) wb_cuda_scratch_free(ws, p->workspace);
    pthread_mutex_unlock(&g_lock);
    return st;
}

static wb_status forward(const wb_conv_shape *s, const float *x, const float *w, const float *b, float *y) {
    conv_call c = {.s = s, .x = x, .w = w, .b = b, .y = y};
    return conv_pass(WB_CONV_PASS_FORWARD, &c);
}

static wb_status backward_data(const wb_conv_shape *s, const float *dy, const float *w, float *dx) {
    conv_call c = {.s = s, .w = w, .dy = dy, .dx = dx};
    return conv_pass(WB_CONV_PASS_BACKWARD_DATA, &c);
}

static wb_status backward_weights(const wb_conv_shape *s, const float *x, const float *dy, float *dw, float *db) {
    conv_call c = {.s = s, .x = x, .dy = dy, .dw = dw, .db = db};
    return conv_pass(WB_CONV_PASS_BACKWARD_WEIGHTS, &c);
}

static const wb_conv_kernels g_cuda_conv = {forward, backward_data, backward_weights, NULL, NULL, NULL};

const wb_conv_kernels *wb_cuda_conv_kernels(void) { return &g_cuda_conv; }
