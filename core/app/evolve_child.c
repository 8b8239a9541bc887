#include "evolve_child.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t g_child_pid;
static volatile sig_atomic_t g_stop_signal;

static void forward(int sig) {
    g_stop_signal = sig;
    if (g_child_pid > 0) kill((pid_t)g_child_pid, sig);
}

int wb_run_child(char *const *argv, wb_child_result *r, char *err, size_t n) {
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa = {.sa_handler = forward}, old[3];
    sigemptyset(&sa.sa_mask);
    /* Handlers before the fork: a signal in between is remembered and, once the pid is known, forwarded. */
    for (int i = 0; i < 3; i++) sigaction(signals[i], &sa, &old[i]);
    memset(r, 0, sizeof *r);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        for (int i = 0; i < 3; i++) sigaction(signals[i], &old[i], NULL);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "workbench evolve: cannot run /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    if (pid < 0) {
        snprintf(err, n, "cannot start a training run: %s", strerror(errno));
        for (int i = 0; i < 3; i++) sigaction(signals[i], &old[i], NULL);
        return -1;
    }
    g_child_pid = pid;
    if (g_stop_signal) kill(pid, g_stop_signal);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_child_pid = 0;
    for (int i = 0; i < 3; i++) sigaction(signals[i], &old[i], NULL);
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->stop_signal = g_stop_signal;
    return 0;
}
