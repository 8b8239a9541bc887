#include "evolve_child.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../runtime/stop_signal.h"

int wb_run_child(char *const *argv, wb_child_result *r, char *err, size_t n) {
    /* Handlers before the fork: a signal in between is remembered and, once the pid is known, forwarded. */
    wb_stop_handlers old;
    wb_stop_install(&old);
    memset(r, 0, sizeof *r);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        wb_stop_restore(&old);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "workbench evolve: cannot run /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    if (pid < 0) {
        snprintf(err, n, "cannot start a training run: %s", strerror(errno));
        wb_stop_restore(&old);
        return -1;
    }
    wb_stop_forward_to(pid);
    if (wb_stop_requested()) kill(pid, wb_stop_requested());
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    wb_stop_forward_to(0);
    wb_stop_restore(&old);
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->stop_signal = wb_stop_requested();
    return 0;
}
