/* The internal backend interface (not part of the SDK). A backend owns device
 * memory and one forward/backward kernel pair per op, grouped in families;
 * each family's kernel table is declared in its own header:
 *   kernels_conv.h       conv2d (forward, backward data, backward weights)
 *   kernels_dense.h      batch norm, pooling, matmul
 *   kernels_pointwise.h  activations, broadcast add/mul, resize, shape ops, reductions
 *   kernels_loss.h       loss primitives
 *   kernels_optim.h      optimizer steps (so optimizer state never leaves the device)
 *   kernels_gather.h     RoIAlign, RoIPool, index_select (scatter-add backwards)
 *   kernels_norm.h       group norm
 *   kernels_boxes.h      box IoU, delta coding, anchors, NMS (no gradient)
 *   kernels_layout.h     channel-blocked activations at inference (CPU only; NULL elsewhere)
 * Kernel conventions: pointers are device pointers of this backend; shapes are
 * logical NCHW contiguous; backward kernels OVERWRITE their outputs (the tape
 * accumulates). A family table entry may be NULL when the backend falls back
 * to the reference backend for it (CPU only: same memory). */
#ifndef WB_CORE_BACKEND_H
#define WB_CORE_BACKEND_H

#include <stddef.h>
#include <workbench/types.h>

typedef struct wb_conv_kernels wb_conv_kernels;
typedef struct wb_dense_kernels wb_dense_kernels;
typedef struct wb_pointwise_kernels wb_pointwise_kernels;
typedef struct wb_loss_kernels wb_loss_kernels;
typedef struct wb_optim_kernels wb_optim_kernels;
typedef struct wb_gather_kernels wb_gather_kernels;
typedef struct wb_norm_kernels wb_norm_kernels;
typedef struct wb_box_kernels wb_box_kernels;
typedef struct wb_layout_kernels wb_layout_kernels;
struct wb_pool;

typedef enum wb_buffer_usage {
    WB_BUF_WEIGHTS = 0,  /* parameters, gradients, optimizer state */
    WB_BUF_COMPUTE = 1,  /* activations and temporaries of one iteration */
    WB_BUF_STAGING = 2   /* host-visible copies */
} wb_buffer_usage;

typedef struct wb_backend {
    const char *name;
    wb_device device;
    void *(*alloc)(size_t bytes, wb_buffer_usage usage);
    void (*free)(void *ptr, wb_buffer_usage usage);
    void (*upload)(void *dst, const void *host_src, size_t bytes);
    void (*download)(void *host_dst, const void *src, size_t bytes);
    void (*copy)(void *dst, const void *src, size_t bytes);
    void (*zero)(void *dst, size_t bytes);
    void (*synchronize)(void);
    void (*set_threads)(int n);
    /* Kernels take short-lived scratch from the attached pool (a session's
     * tensor pool) so it reuses memory that freed activations left; detach
     * only stops using the pool given. NULL where no kernel needs scratch. */
    void (*attach_scratch)(struct wb_pool *pool);
    void (*detach_scratch)(struct wb_pool *pool);
    const wb_conv_kernels *conv;
    const wb_dense_kernels *dense;
    const wb_pointwise_kernels *pointwise;
    const wb_loss_kernels *loss;
    const wb_optim_kernels *optim;
    const wb_gather_kernels *gather;
    const wb_norm_kernels *norm;
    const wb_box_kernels *boxes;
    const wb_layout_kernels *layout;
} wb_backend;

/* Plain-C reference kernels: the ground truth optimized kernels are tested against. */
const wb_backend *wb_backend_ref(void);
/* oneDNN + OpenMP; entries it lacks fall back to the reference kernels. */
const wb_backend *wb_backend_cpu(void);
/* The CPU backend with amp = "bf16": convolutions and matrix products take
 * bfloat16 inputs and accumulate in fp32, the rest as wb_backend_cpu. NULL,
 * with the reason in why, on a CPU without bfloat16 instructions. */
const wb_backend *wb_backend_cpu_bf16(char *why, size_t why_size);

#endif
