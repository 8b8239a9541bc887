/* Core lists the trainer copies into fixed arrays: without a limit the
 * elements past the array would be dropped without a word. */
#ifndef WB_CORE_LIST_LIMITS_H
#define WB_CORE_LIST_LIMITS_H

typedef struct wb_list_limit {
    const char *path;  /* dotted path in the experiment: "schedule.milestones" */
    int min_len, max_len;
    int pairs;         /* elements come in pairs: the length must be even */
    const char *form;  /* how the list is written, for messages: "[beta1, beta2]" */
} wb_list_limit;

/* The limit of the core list at path, or NULL when it has none. */
const wb_list_limit *wb_core_list_limit(const char *path);

/* 0 when a list of n elements fits lim; otherwise -1 and the reason in err
 * ("schedule.milestones has 17 elements; at most 16 are supported"). */
int wb_list_limit_check(const wb_list_limit *lim, int n, char *err, size_t err_size);

#endif
