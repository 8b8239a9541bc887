/* See cudnn_algo.h. */
#include "cudnn_algo.h"

#include "conv_plan_cache.h"
#include "cuda_context.h"

static void check(cudnnStatus_t st, const char *what, int line) {
    if (st != CUDNN_STATUS_SUCCESS) wb_cuda_fail(what, cudnnGetErrorString(st), __FILE__, line);
}
#define CUDNN_CHECK(call) check((call), #call, __LINE__)

/* The three passes' perf structs differ in type only. */
#define PICK(perf, n)                                                                          \
    do {                                                                                       \
        for (int i_ = 0; i_ < (n); i_++) {                                                     \
            if ((perf)[i_].status != CUDNN_STATUS_SUCCESS) continue;                           \
            if ((perf)[i_].memory > WB_CUDNN_WORKSPACE_LIMIT) continue;                        \
            *algo = (int)(perf)[i_].algo;                                                      \
            *workspace = (perf)[i_].memory;                                                    \
            return true;                                                                       \
        }                                                                                      \
        return false;                                                                          \
    } while (0)

bool wb_cudnn_choose_algo(cudnnHandle_t h, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                          cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, int64_t pass, int *algo,
                          size_t *workspace) {
    int n = 0;
    if (pass == WB_CONV_PASS_FORWARD) {
        cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, x, w, conv, y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n,
                                                           perf));
        PICK(perf, n);
    } else if (pass == WB_CONV_PASS_BACKWARD_DATA) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
        CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, w, y, conv, x,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf));
        PICK(perf, n);
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
        CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, x, y, conv, w,
                                                                  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf));
        PICK(perf, n);
    }
}
