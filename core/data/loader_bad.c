#include "loader_bad.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../runtime/log.h"

bool wb_bad_log_init(wb_bad_log *b, int64_t n_items) {
    memset(b, 0, sizeof *b);
    b->n_items = n_items;
    b->seen = calloc((size_t)(n_items / 8 + 1), 1);
    return b->seen != NULL;
}

static bool first_time(wb_bad_log *b, int64_t index) {
    if (index < 0 || index >= b->n_items) return true;
    uint8_t bit = (uint8_t)(1u << (index % 8));
    if (b->seen[index / 8] & bit) return false;
    b->seen[index / 8] |= bit;
    return true;
}

static void keep(wb_bad_log *b, int64_t index, const char *message) {
    if (b->n_kept == WB_BAD_KEPT) return;
    if (b->n_kept == b->cap_kept) {
        int cap = b->cap_kept ? 2 * b->cap_kept : 16;
        wb_bad_sample *p = realloc(b->kept, (size_t)cap * sizeof *p);
        if (!p) return; /* the warning is still logged */
        b->kept = p, b->cap_kept = cap;
    }
    wb_bad_sample *s = &b->kept[b->n_kept++];
    s->index = index;
    snprintf(s->message, sizeof s->message, "%s", message);
}

/* The first WB_BAD_LOGGED failures one by one, then a count at 100, 1000, ... */
static void report(wb_bad_log *b, int64_t index, const char *message) {
    b->reports++;
    if (b->reports <= WB_BAD_LOGGED) {
        wb_logf(WB_LOG_WARN, "data", "skipping sample %lld: %s", (long long)index, message);
        if (b->reports == WB_BAD_LOGGED)
            wb_logf(WB_LOG_WARN, "data", "further bad samples are counted, not logged one by one");
        return;
    }
    int64_t p = 100;
    while (p < b->reports && p < INT64_MAX / 10) p *= 10;
    if (p == b->reports) wb_logf(WB_LOG_WARN, "data", "%lld samples skipped so far", (long long)b->reports);
}

static void summarize(const wb_bad_log *b, char *out, size_t n) {
    size_t len = b->distinct == b->n_items
                     ? (size_t)snprintf(out, n, "all %lld samples of the dataset failed to load; the first:",
                                        (long long)b->n_items)
                     : (size_t)snprintf(out, n,
                                        "%lld samples in a row failed to load (%lld of the dataset's %lld so far); "
                                        "the first:",
                                        (long long)b->in_a_row, (long long)b->distinct, (long long)b->n_items);
    for (int i = 0; i < b->n_kept && i < 3 && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "\n  %.250s", b->kept[i].message);
    if (len < n)
        snprintf(out + len, n - len,
                 "\nthe data cannot be loaded: `workbench check EXPERIMENT` lists every bad image; fix or "
                 "remove them");
}

void wb_bad_log_record(wb_bad_log *b, int64_t index, const char *message) {
    if (!first_time(b, index)) return;
    b->distinct++;
    keep(b, index, message);
}

bool wb_bad_log_add(wb_bad_log *b, int64_t index, const char *message, char *summary, size_t n) {
    b->in_a_row++;
    wb_bad_log_record(b, index, message);
    report(b, index, message);
    if (b->in_a_row < WB_BAD_IN_A_ROW && b->distinct < b->n_items) return false;
    summarize(b, summary, n);
    return true;
}

void wb_bad_log_success(wb_bad_log *b) { b->in_a_row = 0; }

void wb_bad_log_free(wb_bad_log *b) {
    free(b->seen);
    free(b->kept);
    memset(b, 0, sizeof *b);
}
