/* Internal to the loader: its record of samples that failed to load. Each
 * index is kept once (the first WB_BAD_KEPT with their messages), warnings
 * are rate-limited, and a run whose data cannot be loaded is stopped: after
 * WB_BAD_IN_A_ROW failures in a row, or once every item has failed, instead
 * of planning epochs of nothing forever. Not thread-safe: the loader calls
 * it under its lock. */
#ifndef WB_CORE_DATA_LOADER_BAD_H
#define WB_CORE_DATA_LOADER_BAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WB_BAD_IN_A_ROW 200
#define WB_BAD_KEPT 10000
#define WB_BAD_LOGGED 10 /* one warning each; after that, counts only */

typedef struct wb_bad_sample {
    int64_t index;
    char message[512];
} wb_bad_sample;

typedef struct wb_bad_log {
    int64_t n_items;
    uint8_t *seen; /* bitmap over the items */
    int64_t distinct, in_a_row, reports;
    wb_bad_sample *kept;
    int n_kept, cap_kept;
} wb_bad_log;

bool wb_bad_log_init(wb_bad_log *b, int64_t n_items);
/* Records that item `index` failed with `message`, nothing else (a run
 * about to stop with that message). */
void wb_bad_log_record(wb_bad_log *b, int64_t index, const char *message);
/* Records that item `index` failed with `message` and logs it (rate-limited).
 * true when the run should stop: then `summary` says how many failed, the
 * first few and their reasons, and what to do. */
bool wb_bad_log_add(wb_bad_log *b, int64_t index, const char *message, char *summary, size_t n);
/* A sample loaded: failures are no longer in a row. */
void wb_bad_log_success(wb_bad_log *b);
void wb_bad_log_free(wb_bad_log *b);

#endif
