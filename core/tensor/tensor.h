/* The core's tensor: logical NCHW float32, always contiguous. Plugins see it
 * only as an opaque wb_tensor handle. */
#ifndef WB_CORE_TENSOR_H
#define WB_CORE_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <workbench/types.h>

/* Pool memory shared by a tensor and its views (reshape). Each live
 * reference counts: the tensor's owner (the code that made it, until it is
 * released or its module's forward returns), every view, and every tape node
 * whose backward reads the data. The last one gives the memory back. */
typedef struct wb_storage {
    float *data;
    size_t bytes;
    int refs;
} wb_storage;

struct wb_tensor {
    int ndim;
    int64_t shape[WB_MAX_DIMS];
    int64_t numel;
    float *data;          /* backend memory: host code reads it only through runtime/host_copy.h */
    float *grad;          /* same shape, backend memory; meaningful only when grad_valid */
    wb_device device;     /* where data and grad live (the session's backend) */
    bool grad_valid;      /* false: the gradient is zero (nothing written yet) */
    bool requires_grad;
    bool persistent;      /* lives in the weights arena (parameter or buffer) */
    bool trainable;       /* parameter updated by the optimizer */
    bool grad_pooled;     /* a parameter whose grad is tensor-pool memory (session.h: pool_param_grads) */
    const char *name;     /* full dotted name of a parameter or buffer */
    wb_storage *storage;  /* NULL: memory not from the pool (parameters, borrowed data) */
    bool owner_released;  /* the owner's reference on storage was dropped */
    wb_tensor *next_created; /* the creating context's list, while it tracks */
    const void *maker;    /* the wb_context that made it (plugins release only their own) */
    /* Non-NULL: this is relu(relu_of), recorded for backward. A tape node that keeps it holds relu_of instead
     * and recomputes it for its backward if its own data is gone by then (autograd/tape.c): the tensor
     * before a ReLU is kept anyway (by the norm before it and by relu itself), so conv + norm + ReLU blocks
     * keep one activation instead of two. */
    struct wb_tensor *relu_of;
    /* Non-NULL: the conv2d tape node that computed this tensor (training). A batch norm that reads it and
     * alone holds its own output may let that go and recompute this tensor for its backward (ops/norm.c). */
    struct wb_tape_node *made_by_conv;
    /* data is in the backend's channel-blocked layout (backends/kernels_layout.h), left there by a conv
     * with no backward after it. Only ops that read that layout see it so: wb_ctx_check_inputs makes it
     * plain NCHW, in place, for every other reader. */
    bool blocked;
};

int64_t wb_shape_numel(int ndim, const int64_t *shape);
bool wb_shape_equal(const wb_tensor *a, const wb_tensor *b);
/* "[2, 3, 64, 64]" into buf; returns buf. */
const char *wb_shape_str(const wb_tensor *t, char *buf, size_t size);
void wb_tensor_fill_info(const wb_tensor *t, wb_tensor_info *info);

#endif
