/* Runs one `workbench` child command (this same executable) and waits for
 * it, forwarding SIGINT, SIGTERM and SIGHUP to it: the child has its own
 * process group, so a stop reaches it once, through the parent, and the
 * parent learns it was asked to stop. */
#ifndef WB_CORE_APP_EVOLVE_CHILD_H
#define WB_CORE_APP_EVOLVE_CHILD_H

#include <stddef.h>

typedef struct wb_child_result {
    int exit_code;    /* the child's exit status, or 128 + signal when a signal ended it */
    int stop_signal;  /* the signal that asked this process to stop meanwhile, or 0 */
} wb_child_result;

/* argv[0] is ignored (the child runs /proc/self/exe); argv ends with NULL.
 * 0, or -1 with the reason in err when it cannot be started. */
int wb_run_child(char *const *argv, wb_child_result *r, char *err, size_t err_size);

#endif
