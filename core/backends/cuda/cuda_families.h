/* The kernel tables of the CUDA backend, one getter per family (the family
 * headers in core/backends/kernels_*.h define the tables). Each getter lives
 * in that family's own source file under core/backends/cuda/; the module
 * entry (cuda_module.c) assembles them into the wb_backend. */
#ifndef WB_CORE_CUDA_FAMILIES_H
#define WB_CORE_CUDA_FAMILIES_H

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

const wb_conv_kernels *wb_cuda_conv_kernels(void);           /* conv_cudnn.c */
const wb_dense_kernels *wb_cuda_dense_kernels(void);         /* dense_cuda.cu (+ matmul_cublas.c) */
const wb_pointwise_kernels *wb_cuda_pointwise_kernels(void); /* pointwise_cuda.cu */
const wb_loss_kernels *wb_cuda_loss_kernels(void);           /* loss_cuda.cu */
const wb_optim_kernels *wb_cuda_optim_kernels(void);         /* optim_cuda.cu */
const wb_gather_kernels *wb_cuda_gather_kernels(void);       /* gather_cuda.cu */
const wb_norm_kernels *wb_cuda_norm_kernels(void);           /* norm_cuda.cu */
const wb_box_kernels *wb_cuda_box_kernels(void);             /* boxes_cuda.cu */

#ifdef __cplusplus
}
#endif

#endif
