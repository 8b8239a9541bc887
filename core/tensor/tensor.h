/* The core's tensor: logical NCHW float32, always contiguous. Plugins see it
 * only as an opaque wb_tensor handle. */
#ifndef WB_CORE_TENSOR_H
#define WB_CORE_TENSOR_H

#include <stdbool.h>
#include <workbench/types.h>

struct wb_tensor {
    int ndim;
    int64_t shape[WB_MAX_DIMS];
    int64_t numel;
    float *data;          /* backend memory (host memory on the CPU backend) */
    float *grad;          /* same shape; meaningful only when grad_valid */
    bool grad_valid;      /* false: the gradient is zero (nothing written yet) */
    bool requires_grad;
    bool persistent;      /* lives in the weights arena (parameter or buffer) */
    bool trainable;       /* parameter updated by the optimizer */
    const char *name;     /* full dotted name of a parameter or buffer */
};

int64_t wb_shape_numel(int ndim, const int64_t *shape);
bool wb_shape_equal(const wb_tensor *a, const wb_tensor *b);
/* "[2, 3, 64, 64]" into buf; returns buf. */
const char *wb_shape_str(const wb_tensor *t, char *buf, size_t size);
void wb_tensor_fill_info(const wb_tensor *t, wb_tensor_info *info);

#endif
