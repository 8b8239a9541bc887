/* The signals that ask a training run to stop: SIGINT (Ctrl-C), SIGTERM
 * (docker stop, Kubernetes, Slurm) and SIGHUP (the terminal went away).
 * While installed they are only remembered; the loops poll them (the
 * trainer after each iteration, validation after each batch) and stop where
 * a checkpoint can be written. */
#ifndef WB_RUNTIME_STOP_SIGNAL_H
#define WB_RUNTIME_STOP_SIGNAL_H

#include <signal.h>
#include <sys/types.h>

enum { WB_STOP_SIGNALS = 3 };

typedef struct wb_stop_handlers {
    struct sigaction old[WB_STOP_SIGNALS];
} wb_stop_handlers;

/* Clears any earlier request and remembers the first stop signal from now on. */
void wb_stop_install(wb_stop_handlers *saved);
/* The handlers in place before wb_stop_install; a request stays readable. */
void wb_stop_restore(const wb_stop_handlers *saved);
/* Every stop signal from now on is also sent to pid (a child run that
 * stops itself); 0: to none. */
void wb_stop_forward_to(pid_t pid);
/* The first stop signal received since wb_stop_install, 0 if none. */
int wb_stop_requested(void);
/* "SIGINT", "SIGTERM", "SIGHUP", or "a signal". */
const char *wb_stop_name(int sig);

#endif
