/* train.recompute: activation recompute for whole model stages (the backbone,
 * the neck), as torch.utils.checkpoint and mmdetection's with_cp. In
 * training such a stage's forward runs as usual and then forgets its tape,
 * so nothing it saved for backward stays alive while the later stages run
 * forward, loss and backward; only its inputs and outputs do. Its backward
 * first runs the forward again on the same inputs, from the same RNG state,
 * records the tape again and replays it. The second forward's writes to the
 * stage's buffers (batch norm's running statistics) are undone, so they
 * update once per iteration, and since the kernels are deterministic the
 * weights, buffers and checkpoints are bit-identical to training without it
 * (e2e_recompute). The price is one more forward of the stage. */
#ifndef WB_CORE_RECOMPUTE_H
#define WB_CORE_RECOMPUTE_H

#include "model.h"

typedef struct wb_recompute {
    bool pending;           /* forward forgot a tape that backward must rebuild */
    uint64_t rng_before;    /* the stage's RNG state before that forward */
    int n_in;
    int64_t image_h, image_w;
    int n_buffers;
    wb_tensor *buffers[];   /* the stage's buffers (running statistics) */
} wb_recompute;

/* After a training forward of a slot under recompute: drops its tape. */
void wb_recompute_forget(wb_module_slot *slot, uint64_t rng_before, int n_in, int64_t image_h, int64_t image_w);
/* Before its backward: the forward again, with the tape, and the output
 * gradients moved onto the new outputs. */
wb_status wb_recompute_rebuild(wb_module_slot *slot, char *err, size_t err_size);

#endif
