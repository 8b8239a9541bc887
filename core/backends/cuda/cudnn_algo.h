/* cuDNN's heuristics choice of the algorithm for one convolution pass, shared
 * by the fp32 convolutions (conv_cudnn.c) and the 16-bit ones
 * (amp_conv_cudnn.c): the heuristics' ranking, best first; the first that
 * runs within the workspace limit wins. */
#ifndef WB_CORE_CUDA_CUDNN_ALGO_H
#define WB_CORE_CUDA_CUDNN_ALGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cudnn.h>

/* Above this an algorithm is passed over for the next best; 1 GiB covers
 * the fastest algorithms of detection-sized convs (torch caps nothing and
 * falls back when the allocation fails, which a caching allocator makes
 * expensive to detect). */
#define WB_CUDNN_WORKSPACE_LIMIT ((size_t)1 << 30)

/* pass: WB_CONV_PASS_* (conv_plan_cache.h). False when no algorithm fits. */
bool wb_cudnn_choose_algo(cudnnHandle_t h, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                          cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, int64_t pass, int *algo,
                          size_t *workspace);

#endif
