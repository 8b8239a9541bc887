/* Plumbing shared by the loss front-ends (loss_classification.c,
 * loss_regression.c): argument checks, the reduction, and one tape node per
 * loss whose backward replays the op's backward kernel. */
#ifndef WB_CORE_OPS_LOSS_COMMON_H
#define WB_CORE_OPS_LOSS_COMMON_H

#include <stdbool.h>
#include "../backends/kernels_loss.h"
#include "../runtime/context.h"

/* What a loss node keeps for its backward. */
typedef struct wb_loss_saved {
    wb_reduction r;
    float grad_scale;  /* 1, or 1 / count for mean */
    float p0, p1;      /* op parameters: gamma and alpha, beta, eps */
    wb_iou_mode mode;
} wb_loss_saved;

static inline const wb_loss_kernels *wb_loss_kernels_of(wb_context *c) { return c->s->backend->loss; }

bool wb_loss_check_reduction(wb_context *c, const char *op, wb_reduction r);
/* "<op>: <what> has shape [..] but <ref_name> has [..]" unless shapes match. */
bool wb_loss_check_same_shape(wb_context *c, const char *op, const char *what, const wb_tensor *t,
                              const char *ref_name, const wb_tensor *ref);
/* weight may be NULL; else it must have the elementwise loss's shape. */
bool wb_loss_check_weight(wb_context *c, const char *op, const wb_tensor *w, int ndim,
                          const int64_t *shape);

/* The op's result: elem itself (none) or a scalar: the sum, or the sum over
 * `count` for mean (0 when count is 0, as torchvision's box losses, instead
 * of torch's NaN: a batch without positives must not poison training).
 * *grad_scale gets what the backward multiplies the scalar's gradient by. */
wb_tensor *wb_loss_reduce(wb_context *c, wb_tensor *elem, wb_reduction r, int64_t count,
                          float *grad_scale);

/* Records the loss node over inputs (a, b, weight) when a or b needs a
 * gradient. Returns false only on failure (ctx error set). */
bool wb_loss_record(wb_context *c, const char *op, wb_tape_backward_fn fn, wb_tensor *a, wb_tensor *b,
                    wb_tensor *weight, wb_tensor *out, wb_loss_saved saved);

/* The upstream gradient of a loss node in the kernels' form (g NULL + ctx error on OOM). */
wb_loss_grad wb_loss_upstream_of(wb_context *c, wb_tape_node *node);

#endif
