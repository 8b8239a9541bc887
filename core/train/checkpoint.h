/* Checkpoints: one safetensors file with every parameter and buffer under its
 * name, the optimizer state as "<param>::<state>", the EMA weights as
 * "ema.<name>" when EMA is on, and the trainer state as metadata. Written
 * atomically (temporary file, fsync, rename). */
#ifndef WB_CORE_CHECKPOINT_H
#define WB_CORE_CHECKPOINT_H

#include "ema.h"
#include "optimizer.h"

typedef struct wb_train_state {
    int64_t iteration;  /* iterations done */
    int64_t epoch;      /* epochs done */
    int has_best;       /* best_score / best_name hold the best validation so far */
    double best_score;
    char best_name[256];  /* file name of the best checkpoint in the work dir */
} wb_train_state;

/* Counts, and the first few names of each kind joined by ", ". */
typedef struct wb_load_report {
    int matched, missing, unexpected, shape_mismatched;
    char first_missing[256], first_unexpected[256], first_mismatch[256];
} wb_load_report;

/* o, ema and st may be NULL (a weights-only file). */
wb_status wb_checkpoint_save(const char *path, wb_session *s, wb_optimizer *o, const wb_ema *ema,
                             const wb_train_state *st, char *err, size_t err_size);
/* Loads matching names into the session. With o and st non-NULL, also the
 * optimizer state and trainer state (resume); a resume requires every name
 * to match. */
wb_status wb_checkpoint_load(const char *path, wb_session *s, wb_optimizer *o, wb_train_state *st,
                             wb_load_report *report, char *err, size_t err_size);

#endif
