/* Checkpoints: one safetensors file with every parameter and buffer under its
 * name, the optimizer state as "<param>::<state>", the EMA weights as
 * "ema.<name>" when EMA is on, the trainer state and the class names
 * (checkpoint_labels.h) as metadata. Written atomically (temporary file,
 * fsync, rename). */
#ifndef WB_CORE_CHECKPOINT_H
#define WB_CORE_CHECKPOINT_H

#include "checkpoint_labels.h"
#include "ema.h"
#include "loss_scaler.h"
#include "optimizer.h"

typedef struct wb_train_state {
    int64_t iteration;  /* iterations done */
    int64_t epoch;      /* epochs done */
    int64_t in_epoch;   /* iterations done in the unfinished epoch (0 at an epoch's end); -1: not recorded */
    int64_t world;      /* ranks of the run (multi-process training); 1 in files from before it */
    int64_t total_batch; /* images per iteration over every rank, which fixes an epoch's order; 0: not recorded */
    int has_best;       /* best_score / best_name hold the best validation so far */
    double best_score;
    char best_name[256];  /* file name of the best checkpoint in the work dir */
    wb_loss_scale_state amp;  /* amp = "fp16"'s loss scale (loss_scaler.h); scale 0: none */
} wb_train_state;

/* Counts, and the first WB_LOAD_REPORT_SHOWN names of each kind with their
 * shapes, joined by ", " (then ", ..." when there are more): missing
 * "name [model's shape]", unexpected "name [file's shape]", shape mismatched
 * "name: model [..], file [..]". widened: matched tensors the file stores as
 * F16 or BF16 (read as float32). */
#define WB_LOAD_REPORT_SHOWN 5
typedef struct wb_load_report {
    int matched, missing, unexpected, shape_mismatched, widened;
    char first_missing[1024], first_unexpected[1024], first_mismatch[1024];
} wb_load_report;

/* What did not fit, for a message: "2 missing from the file: a [3], b [3];
 * 1 with another shape: c: model [4], file [5]", only the kinds that occur
 * (unexpected names too when with_unexpected); "" when everything fit. */
void wb_load_report_describe(const wb_load_report *r, bool with_unexpected, char *buf, size_t size);

/* o, ema, st and labels may be NULL (a weights-only file). A parameter
 * holding NaN or Inf is refused (WB_ERR_NUMERIC, naming it): no file is
 * written. */
wb_status wb_checkpoint_save(const char *path, wb_session *s, wb_optimizer *o, const wb_ema *ema,
                             const wb_train_state *st, const wb_checkpoint_labels *labels, char *err,
                             size_t err_size);

/* What a load restores besides the weights. */
typedef struct wb_load_opts {
    wb_optimizer *optimizer;  /* with state: a resume (optimizer state and trainer state) */
    wb_ema *ema;              /* NULL: the file's EMA averages are not read */
    wb_train_state *state;
    bool allow_nonfinite;     /* load NaN / Inf values instead of refusing the file */
} wb_load_opts;

/* Loads matching names into the session (opts NULL: weights only). A resume
 * requires every name to match and valid trainer state (the numbers are
 * checked against each other here, against the experiment by the trainer).
 * Nothing is changed unless everything loads. */
wb_status wb_checkpoint_load(const char *path, wb_session *s, const wb_load_opts *opts, wb_load_report *report,
                             char *err, size_t err_size);

/* Only the trainer state of a checkpoint, validated as by a resume. */
wb_status wb_checkpoint_read_state(const char *path, wb_train_state *st, char *err, size_t err_size);

/* Whether name is one the trainer gives a best checkpoint:
 * best_<metric>_<epoch|iter>_<N>.safetensors, a plain file name in the work
 * dir. A name read from a file is used only if it is. */
bool wb_checkpoint_best_name_ok(const char *name);

#endif
