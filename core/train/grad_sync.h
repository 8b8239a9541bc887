/* Gradients averaged over the ranks before the optimizer step, as PyTorch's
 * DDP does it: the trainable parameters, in reverse registration order (the
 * order backward finishes them), are cut into buckets of about bucket_mb;
 * a bucket's non-blocking fp32 sum starts as soon as the autograd tape says
 * each of its gradients is final (wb_tape's on_final), while backward goes
 * on; buckets start in their order on every rank. After the backward the
 * rest start; the sums are waited for before the optimizer step and divided
 * by the number of ranks. Each bucket carries, per parameter, whether this
 * rank's backward reached it: a parameter some rank reached gets a gradient
 * on all (zero from the ranks that did not), so the weights stay identical.
 * Only the last micro-batch of an accumulation communicates. Gradients are
 * backend memory: on the MPI table they go to the sum through host buffers
 * (download / upload); on the NCCL table (the CUDA backend under mpirun,
 * wb_dist_device_sums) a bucket is a device buffer the gradients are copied
 * into on the GPU, as DDP's buckets, and only its flags go through the host
 * (summed by MPI beside it). */
#ifndef WB_CORE_GRAD_SYNC_H
#define WB_CORE_GRAD_SYNC_H

#include "../autograd/tape.h"
#include "../dist/dist.h"
#include "../runtime/session.h"

typedef struct wb_grad_bucket {
    int first, end;           /* its parameters: order[first .. end) */
    float *host;              /* [flags per parameter][gradients], summed in place; on the NCCL table the flags only */
    float *device;            /* on the NCCL table: [gradients] in backend memory, else NULL */
    int64_t numel;            /* flags and gradients */
    int waiting;              /* its parameters not final yet this round */
    wb_dist_request request;  /* its sum in flight (of host, or of the flags beside device), or NULL */
    wb_dist_request device_request; /* device's sum in flight, or NULL */
} wb_grad_bucket;

typedef struct wb_grad_sync {
    double bucket_mb;         /* the caller's: 0 = one bucket, started after the whole backward */
    /* the plan, remade when the trainable set changes (train.freeze) */
    int *order;               /* session parameter indices, reverse registration order */
    int n_order;
    int *bucket_of;           /* per session parameter: its bucket, -1 when not synced */
    wb_tensor **by_tensor;    /* the synced tensors sorted by address, ... */
    int *by_tensor_index;     /* ... with their session index: the hook's look-up */
    wb_grad_bucket *buckets;
    int n_buckets;
    const wb_backend *device_backend; /* the buckets' device buffers are this backend's; NULL on the MPI table */
    /* this round */
    wb_session *s;
    wb_tape *tapes[4];        /* listened to until launch_rest */
    int n_tapes;
    bool open;                /* between begin and finish */
    bool *final;              /* per session parameter */
    int next;                 /* the first bucket not started */
    wb_status failed;         /* a start that failed in the hook (reported by launch_rest) */
    char failed_msg[256];
    /* over the run, for the closing line and bench/distributed */
    double wait_seconds;      /* waiting for sums after the backward: the communication backward did not hide */
    double pack_seconds;      /* staging gradients in and out of the host buffers */
    int64_t rounds, started_early, started; /* buckets started during backward, of all started */
} wb_grad_sync;

/* Before the forward of a micro-batch that ends an accumulation: opens a
 * round and listens to the model's tapes (at most 4). Alone, nothing happens. */
wb_status wb_grad_sync_begin(wb_grad_sync *g, wb_session *s, wb_tape *const *tapes, int n_tapes, char *err,
                             size_t err_size);
/* After that micro-batch's backward, whether it succeeded or not (every rank
 * starts every bucket, so that no rank waits on a sum another never starts). */
wb_status wb_grad_sync_launch_rest(wb_grad_sync *g, char *err, size_t err_size);
/* Before the optimizer step: waits for the sums and leaves the averaged
 * gradients on every rank. */
wb_status wb_grad_sync_finish(wb_grad_sync *g, char *err, size_t err_size);
/* Waits for whatever is still in flight (a round an error cut short). */
void wb_grad_sync_free(wb_grad_sync *g);

/* The tape's hook (wb_grad_final_fn): user is the wb_grad_sync. */
void wb_grad_sync_on_final(void *user, wb_tensor *param);

/* Before an evaluation: rank 0's buffers on every rank (BN running
 * statistics follow each rank's own batches unless train.sync_bn; PyTorch's
 * DDP broadcasts them too), and a check that every rank holds rank 0's
 * weights, bit for bit (a hash of their bytes). An error on every rank when
 * one differs. Alone, nothing happens. */
wb_status wb_grad_sync_align(wb_session *s, char *err, size_t err_size);

#endif
