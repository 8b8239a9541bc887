#include "stop_signal.h"

#include <string.h>

static const int g_signals[WB_STOP_SIGNALS] = {SIGINT, SIGTERM, SIGHUP};
static const char *const g_names[WB_STOP_SIGNALS] = {"SIGINT", "SIGTERM", "SIGHUP"};
static volatile sig_atomic_t g_requested, g_forward_pid;

static void on_stop_signal(int sig) {
    if (!g_requested) g_requested = sig;
    if (g_forward_pid > 0) kill((pid_t)g_forward_pid, sig);
}

void wb_stop_install(wb_stop_handlers *saved) {
    g_requested = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART; /* a loader thread's read must not fail with EINTR and skip a sample */
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < WB_STOP_SIGNALS; i++) sigaction(g_signals[i], &sa, &saved->old[i]);
}

void wb_stop_restore(const wb_stop_handlers *saved) {
    for (int i = 0; i < WB_STOP_SIGNALS; i++) sigaction(g_signals[i], &saved->old[i], NULL);
}

void wb_stop_forward_to(pid_t pid) { g_forward_pid = pid; }

int wb_stop_requested(void) { return g_requested; }

const char *wb_stop_name(int sig) {
    for (int i = 0; i < WB_STOP_SIGNALS; i++)
        if (g_signals[i] == sig) return g_names[i];
    return "a signal";
}
