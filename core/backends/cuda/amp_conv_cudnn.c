/* conv2d for amp on cuDNN's legacy API: x, w and dy are narrowed into
 * scratch, the convolution runs with 16-bit tensor descriptors and an fp32
 * convolution descriptor (cuDNN's PSEUDO_HALF / PSEUDO_BFLOAT16 config:
 * fp32 accumulation on tensor cores), and its 16-bit result is widened into
 * the fp32 output, as torch.autocast's conv returns a 16-bit tensor that the
 * next fp32 op widens. Bias and its gradient stay fp32 (cudnnAddTensor,
 * cudnnConvolutionBackwardBias on the fp32 dy). Plans (descriptors and the
 * heuristics' first algorithm within the workspace limit) are cached per
 * (shape, pass), one cache per format. */
#include <pthread.h>
#include <stdlib.h>
#include <cudnn.h>
#include "amp_cuda.h"
#include "conv_plan_cache.h"
#include "cudnn_algo.h"
#include "cuda_context.h"
#include "cuda_families.h"


typedef struct amp_plan {
    cudnnTensorDescriptor_t x, y;     /* 16-bit */
    cudnnFilterDescriptor_t w;        /* 16-bit */
    cudnnTensorDescriptor_t y32, b32; /* fp32: the bias and its gradient */
    cudnnConvolutionDescriptor_t conv;
    int algo;
    size_t workspace;
} amp_plan;

static cudnnHandle_t g_handle;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static wb_conv_plan_cache g_cache[2]; /* by wb_cuda_amp */

static void check(cudnnStatus_t st, const char *what, int line) {
    if (st != CUDNN_STATUS_SUCCESS) wb_cuda_fail(what, cudnnGetErrorString(st), __FILE__, line);
}
#define CUDNN_CHECK(call) check((call), #call, __LINE__)

static void plan_destroy(void *value) {
    amp_plan *p = value;
    cudnnDestroyTensorDescriptor(p->x);
    cudnnDestroyTensorDescriptor(p->y);
    cudnnDestroyTensorDescriptor(p->y32);
    cudnnDestroyTensorDescriptor(p->b32);
    cudnnDestroyFilterDescriptor(p->w);
    cudnnDestroyConvolutionDescriptor(p->conv);
    free(p);
}

static void create_handle(void) {
    CUDNN_CHECK(cudnnCreate(&g_handle));
    g_cache[0].destroy = g_cache[1].destroy = plan_destroy;
}

static cudnnHandle_t handle(void) {
    pthread_once(&g_once, create_handle);
    CUDNN_CHECK(cudnnSetStream(g_handle, wb_cuda_compute_stream()));
    return g_handle;
}

static void describe(amp_plan *p, const wb_cudnn_dims *d, wb_cuda_amp format) {
    cudnnDataType_t t = format == WB_CUDA_AMP_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->x));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y32));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->b32));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->conv));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, t, d->x[0], d->x[1], d->x[2], d->x[3]));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, t, d->y[0], d->y[1], d->y[2], d->y[3]));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->y32, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->y[0], d->y[1], d->y[2],
                                           d->y[3]));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->b32, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, d->y[1], 1, 1));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w, t, CUDNN_TENSOR_NCHW, d->w[0], d->w[1], d->w[2], d->w[3]));
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->conv, d->pad[0], d->pad[1], d->stride[0], d->stride[1], d->dil[0],
                                                d->dil[1], CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionGroupCount(p->conv, d->groups));
    CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, CUDNN_TENSOR_OP_MATH));
}

static wb_status plan_for(cudnnHandle_t h, wb_cuda_amp format, const wb_conv_shape *s, int64_t pass,
                          const amp_plan **out) {
    wb_conv_plan_key key = {*s, pass, 0};
    wb_status st = WB_OK;
    amp_plan *p = wb_conv_plan_find(&g_cache[format], &key);
    if (!p) {
        wb_cudnn_dims d;
        if (!wb_cudnn_dims_of(s, &d)) {
            st = WB_ERR_UNSUPPORTED;
        } else if (!(p = calloc(1, sizeof *p))) {
            st = WB_ERR_NOMEM;
        } else {
            describe(p, &d, format);
            if (wb_cudnn_choose_algo(h, p->x, p->w, p->conv, p->y, pass, &p->algo, &p->workspace)) {
                wb_conv_plan_insert(&g_cache[format], &key, p);
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

/* One pass's fp32 operands (those it does not use are NULL). */
typedef struct amp_call {
    const wb_conv_shape *s;
    const float *x, *w, *dy, *b;
    float *y, *dx, *dw, *db;
} amp_call;

/* The 16-bit copies of one pass: two inputs narrowed, one output to widen. */
typedef struct amp_scratch {
    uint16_t *in[2], *out;
    size_t bytes[3];
} amp_scratch;

static int64_t numel_x(const wb_conv_shape *s) { return s->n * s->c_in * s->h_in * s->w_in; }
static int64_t numel_y(const wb_conv_shape *s) { return s->n * s->c_out * s->h_out * s->w_out; }
static int64_t numel_w(const wb_conv_shape *s) { return s->c_out * (s->c_in / s->groups) * s->k_h * s->k_w; }

static bool scratch_take(amp_scratch *m, int64_t in0, int64_t in1, int64_t out) {
    const int64_t n[3] = {in0, in1, out};
    uint16_t **slot[3] = {&m->in[0], &m->in[1], &m->out};
    bool ok = true;
    for (int i = 0; i < 3; i++) {
        m->bytes[i] = (size_t)n[i] * sizeof(uint16_t);
        *slot[i] = ok ? wb_cuda_scratch_alloc(m->bytes[i]) : NULL;
        ok = ok && *slot[i];
    }
    return ok;
}

static void scratch_give(amp_scratch *m) {
    uint16_t *p[3] = {m->in[0], m->in[1], m->out};
    for (int i = 0; i < 3; i++)
        if (p[i]) wb_cuda_scratch_free(p[i], m->bytes[i]);
}

static void run_pass(cudnnHandle_t h, wb_cuda_amp f, const amp_plan *p, int64_t pass, const amp_call *c,
                     const amp_scratch *m, void *ws) {
    const wb_conv_shape *s = c->s;
    if (pass == WB_CONV_PASS_FORWARD) {
        wb_cuda_amp_narrow(f, c->x, m->in[0], numel_x(s));
        wb_cuda_amp_narrow(f, c->w, m->in[1], numel_w(s));
        CUDNN_CHECK(cudnnConvolutionForward(h, &ONE, p->x, m->in[0], p->w, m->in[1], p->conv,
                                            (cudnnConvolutionFwdAlgo_t)p->algo, ws, p->workspace, &ZERO, p->y,
                                            m->out));
        wb_cuda_amp_widen(f, m->out, c->y, numel_y(s));
        if (c->b) CUDNN_CHECK(cudnnAddTensor(h, &ONE, p->b32, c->b, &ONE, p->y32, c->y));
    } else if (pass == WB_CONV_PASS_BACKWARD_DATA) {
        wb_cuda_amp_narrow(f, c->dy, m->in[0], numel_y(s));
        wb_cuda_amp_narrow(f, c->w, m->in[1], numel_w(s));
        CUDNN_CHECK(cudnnConvolutionBackwardData(h, &ONE, p->w, m->in[1], p->y, m->in[0], p->conv,
                                                 (cudnnConvolutionBwdDataAlgo_t)p->algo, ws, p->workspace, &ZERO,
                                                 p->x, m->out));
        wb_cuda_amp_widen(f, m->out, c->dx, numel_x(s));
    } else {
        wb_cuda_amp_narrow(f, c->x, m->in[0], numel_x(s));
        wb_cuda_amp_narrow(f, c->dy, m->in[1], numel_y(s));
        CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, &ONE, p->x, m->in[0], p->y, m->in[1], p->conv,
                                                   (cudnnConvolutionBwdFilterAlgo_t)p->algo, ws, p->workspace,
                                                   &ZERO, p->w, m->out));
        wb_cuda_amp_widen(f, m->out, c->dw, numel_w(s));
        if (c->db) CUDNN_CHECK(cudnnConvolutionBackwardBias(h, &ONE, p->y32, c->dy, &ZERO, p->b32, c->db));
    }
}

/* The 16-bit sizes of a pass's two inputs and its output. */
static void pass_sizes(int64_t pass, const wb_conv_shape *s, int64_t n[3]) {
    if (pass == WB_CONV_PASS_FORWARD) n[0] = numel_x(s), n[1] = numel_w(s), n[2] = numel_y(s);
    else if (pass == WB_CONV_PASS_BACKWARD_DATA) n[0] = numel_y(s), n[1] = numel_w(s), n[2] = numel_x(s);
    else n[0] = numel_x(s), n[1] = numel_y(s), n[2] = numel_w(s);
}

static wb_status amp_pass(wb_cuda_amp format, int64_t pass, const amp_call *c) {
    const wb_conv_shape *s = c->s;
    if (s->n == 0) { /* cuDNN refuses empty descriptors; only the weight gradient has elements: zero */
        if (pass != WB_CONV_PASS_BACKWARD_WEIGHTS) return WB_OK;
        cudaStream_t st = wb_cuda_compute_stream();
        WB_CUDA_CHECK(cudaMemsetAsync(c->dw, 0, (size_t)numel_w(s) * sizeof(float), st));
        if (c->db) WB_CUDA_CHECK(cudaMemsetAsync(c->db, 0, (size_t)s->c_out * sizeof(float), st));
        return WB_OK;
    }
    pthread_mutex_lock(&g_lock);
    cudnnHandle_t h = handle();
    const amp_plan *p;
    wb_status st = plan_for(h, format, s, pass, &p);
    amp_scratch m = {0};
    void *ws = NULL;
    if (st == WB_OK) {
        int64_t n[3];
        pass_sizes(pass, s, n);
        if (!scratch_take(&m, n[0], n[1], n[2]) || (p->workspace && !(ws = wb_cuda_scratch_alloc(p->workspace))))
            st = WB_ERR_NOMEM;
    }
    if (st == WB_OK) run_pass(h, format, p, pass, c, &m, ws);
    if (ws) wb_cuda_scratch_free(ws, p->workspace);
    scratch_give(&m);
    pthread_mutex_unlock(&g_lock);
    return st;
}

#define AMP_CONV_TABLE(suffix, format)                                                                       \
    static wb_status forward_##suffix(const wb_conv_shape *s, const float *x, const float *w, const float *b, \
                                      float *y) {                                                            \
        amp_call c = {.s = s, .x = x, .w = w, .b = b, .y = y};                                               \
        wb_status st = amp_pass(format, WB_CONV_PASS_FORWARD, &c);                                           \
        return st == WB_ERR_UNSUPPORTED ? wb_cuda_conv_kernels()->forward(s, x, w, b, y) : st;                \
    }                                                                                                        \
    static wb_status backward_data_##suffix(const wb_conv_shape *s, const float *dy, const float *w,          \
                                            float *dx) {                                                     \
        amp_call c = {.s = s, .w = w, .dy = dy, .dx = dx};                                                   \
        wb_status st = amp_pass(format, WB_CONV_PASS_BACKWARD_DATA, &c);                                     \
        return st == WB_ERR_UNSUPPORTED ? wb_cuda_conv_kernels()->backward_data(s, dy, w, dx) : st;           \
    }                                                                                                        \
    static wb_status backward_weights_##suffix(const wb_conv_shape *s, const float *x, const float *dy,      \
                                               float *dw, float *db) {                                       \
        amp_call c = {.s = s, .x = x, .dy = dy, .dw = dw, .db = db};                                         \
        wb_status st = amp_pass(format, WB_CONV_PASS_BACKWARD_WEIGHTS, &c);                                  \
        return st == WB_ERR_UNSUPPORTED ? wb_cuda_conv_kernels()->backward_weights(s, x, dy, dw, db) : st;    \
    }                                                                                                        \
    static const wb_conv_kernels g_conv_##suffix = {forward_##suffix, backward_data_##suffix,                \
                                                    backward_weights_##suffix, NULL, NULL, NULL};

/* A shape no 16-bit algorithm takes (the heuristics offer none within the
 * workspace limit) runs the fp32 kernel: slower, never wrong. */
AMP_CONV_TABLE(bf16, WB_CUDA_AMP_BF16)
AMP_CONV_TABLE(f16, WB_CUDA_AMP_F16)

const wb_conv_kernels *wb_cuda_amp_conv_kernels(wb_cuda_amp format) {
    return format == WB_CUDA_AMP_BF16 ? &g_conv_bf16 : &g_conv_f16;
}
