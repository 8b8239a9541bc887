/* Checkpoints: one safetensors file with every parameter and buffer under its
 * name, the optimizer state as "<param>::<state>", and the trainer state as
 * metadata. Written atomically (temporary file, fsync, rename). */
#ifndef WB_CORE_CHECKPOINT_H
#define WB_CORE_CHECKPOINT_H

#include "optimizer.h"

typedef struct wb_train_state {
    int64_t iteration;  /* iterations done */
    int64_t epoch;      /* epochs done */
} wb_train_state;

typedef struct wb_load_report {
    int matched, missing, unexpected, shape_mismatched;
    char first_missing[256], first_unexpected[256], first_mismatch[256];
} wb_load_report;

wb_status wb_checkpoint_save(const char *path, wb_session *s, wb_optimizer *o, const wb_train_state *st,
                             char *err, size_t err_size);
/* Loads matching names into the session. With o and st non-NULL, also the
 * optimizer state and trainer state (resume); a resume requires every name
 * to match. */
wb_status wb_checkpoint_load(const char *path, wb_session *s, wb_optimizer *o, wb_train_state *st,
                             wb_load_report *report, char *err, size_t err_size);

#endif
