/* Gradients averaged over the ranks before the optimizer step (what
 * PyTorch's DDP does): every trainable parameter's gradient, and whether
 * this rank's backward reached it, in one fp32 buffer summed over the ranks
 * by one all-reduce after the last micro-batch's backward, then divided by
 * the number of ranks. A parameter some rank reached gets a gradient on all
 * (zero from the ranks that did not), so the weights stay identical. Not
 * bucketed during backward: the all-reduce follows the whole backward. */
#ifndef WB_CORE_GRAD_SYNC_H
#define WB_CORE_GRAD_SYNC_H

#include "../runtime/session.h"

typedef struct wb_grad_sync {
    float *flat;        /* [flags per parameter][gradients] */
    int64_t numel;
    double seconds;     /* spent in the all-reduce, summed over the run */
    int64_t calls;
} wb_grad_sync;

/* The averaged gradients on every rank; alone, nothing happens. */
wb_status wb_grad_sync_average(wb_grad_sync *g, wb_session *s, char *err, size_t err_size);
void wb_grad_sync_free(wb_grad_sync *g);

/* Before an evaluation: rank 0's buffers on every rank (BN running
 * statistics follow each rank's own batches unless train.sync_bn; PyTorch's
 * DDP broadcasts them too), and a check that every rank holds rank 0's
 * weights, bit for bit (a hash of their bytes). An error on every rank when
 * one differs. Alone, nothing happens. */
wb_status wb_grad_sync_align(wb_session *s, char *err, size_t err_size);

#endif
