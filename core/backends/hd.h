/* WB_HD marks the scalar helpers every backend shares (pointwise_math.h,
 * loss_math.h, ...) as callable from CUDA device code too, so the CUDA
 * kernels and the CPU tests of their per-element math run the same source.
 * Plain C sees nothing. */
#ifndef WB_CORE_HD_H
#define WB_CORE_HD_H

#ifdef __CUDACC__
#define WB_HD __host__ __device__
#else
#define WB_HD
#endif

#endif
