#define _GNU_SOURCE /* REG_RIP, on_exit */
#include "plugin_guard.h"

#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#include "plugin_map.h"

static __thread wb_plugin_call *t_call;
static volatile sig_atomic_t g_command_running;
static volatile sig_atomic_t g_reported; /* one report, however many signals follow it */

static const int g_fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define N_FATAL (sizeof g_fatal / sizeof g_fatal[0])
static struct sigaction g_previous[N_FATAL];

void wb_plugin_call_begin(wb_plugin_call *call, const void *plugin_data, const char *type, const char *method,
                          const char *where) {
    *call = (wb_plugin_call){
        .plugin_data = plugin_data, .type = type, .method = method, .where = where, .outer = t_call};
    t_call = call;
}

void wb_plugin_call_begin_file(wb_plugin_call *call, const char *file, const char *method, const char *where) {
    *call = (wb_plugin_call){.file = file, .method = method, .where = where, .outer = t_call};
    t_call = call;
}

void wb_plugin_call_end(wb_plugin_call *call) { t_call = call->outer; }

void wb_plugin_guard_command_begin(void) { g_command_running = 1; }
void wb_plugin_guard_command_end(void) { g_command_running = 0; }

/* A message built without malloc or stdio: signal handlers write it too. */
typedef struct message {
    char text[1536];
    size_t n;
} message;

static void put(message *m, const char *s) {
    while (s && *s && m->n < sizeof m->text - 1) m->text[m->n++] = *s++;
}

static void put_int(message *m, int v) {
    char digits[16];
    int n = 0;
    unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
    do digits[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0) put(m, "-");
    while (n > 0 && m->n < sizeof m->text - 1) m->text[m->n++] = digits[--n];
}

static void emit(message *m) {
    put(m, "\n");
    ssize_t written = write(STDERR_FILENO, m->text, m->n);
    (void)written; /* nothing else to tell */
}

static const wb_mapped_plugin *blamed_file(const wb_plugin_call *c) {
    return c->file ? wb_plugin_map_file(c->file) : wb_plugin_map_find(c->plugin_data);
}

/* "plugin 'name' (path)"; "plugin path" before its manifest is accepted;
 * "module 'type'" for modules linked into the program. */
static void put_plugin(message *m, const wb_mapped_plugin *p, const wb_plugin_call *c) {
    const char *path = p ? p->path : c ? c->file : NULL;
    if (p && p->name) {
        put(m, "plugin '");
        put(m, p->name);
        put(m, "' (");
        put(m, path);
        put(m, ")");
    } else if (path) {
        put(m, "plugin ");
        put(m, path);
    } else {
        put(m, "module '");
        put(m, c && c->type ? c->type : "?");
        put(m, "'");
    }
}

/* " in retina_head.forward (head)" or " in its constructors (...)" */
static void put_call(message *m, const wb_plugin_call *c) {
    put(m, " in ");
    if (c->type) {
        put(m, c->type);
        put(m, ".");
    } else {
        put(m, "its ");
    }
    put(m, c->method);
    if (c->where && c->where[0]) {
        put(m, " (");
        put(m, c->where);
        put(m, ")");
    }
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV (invalid memory access)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGFPE: return "SIGFPE (arithmetic fault)";
    case SIGILL: return "SIGILL (illegal instruction)";
    default: return "SIGABRT (abort)";
    }
}

static const void *faulting_instruction(const void *ucontext) {
#if defined(__x86_64__)
    return (const void *)((const ucontext_t *)ucontext)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (const void *)((const ucontext_t *)ucontext)->uc_mcontext.pc;
#else
    (void)ucontext;
    return NULL;
#endif
}

/* caused: by an instruction (a fault), not sent (abort(), kill): only then does
 * the instruction's address say whose code it is. */
static void report_signal(int sig, bool caused, const void *ucontext) {
    const wb_mapped_plugin *at = caused ? wb_plugin_map_find(faulting_instruction(ucontext)) : NULL;
    const wb_plugin_call *c = t_call;
    if (!c && !at) return; /* not plugin code: the previous handler reports as usual */
    message m = {.n = 0};
    put(&m, "workbench: ");
    const wb_mapped_plugin *p = c ? blamed_file(c) : at;
    put_plugin(&m, p, c);
    put(&m, " crashed with ");
    put(&m, signal_name(sig));
    if (c) put_call(&m, c);
    if (!caused) /* abort() or a kill: the plugin's own, or that of code it called (see any report above) */
        put(&m, "; this is most likely a bug in that plugin");
    else if (p && at != p)
        put(&m, "; the fault is in code that the plugin called (workbench or a library), reached with what the "
                "plugin passed");
    else
        put(&m, "; this is a bug in that plugin");
    emit(&m);
}

/* Reports, then hands the signal to the handler installed before ours (the
 * default action, or a sanitizer's report): a fault the instruction caused
 * happens again when the handler returns, a sent signal is sent again. */
static void on_fatal_signal(int sig, siginfo_t *info, void *ucontext) {
    int saved_errno = errno;
    if (!g_reported) {
        g_reported = 1;
        report_signal(sig, info->si_code > 0, ucontext);
    }
    for (size_t i = 0; i < N_FATAL; i++) {
        if (g_fatal[i] != sig) continue;
        struct sigaction previous = g_previous[i];
        bool ignored = !(previous.sa_flags & SA_SIGINFO) && previous.sa_handler == SIG_IGN;
        if (ignored) previous.sa_handler = SIG_DFL; /* or the fault would repeat forever */
        sigaction(sig, &previous, NULL);
    }
    if (info->si_code <= 0) raise(sig);
    errno = saved_errno;
}

/* The first loaded plugin file among the callers of exit(), or NULL. */
static const wb_mapped_plugin *plugin_on_stack(void) {
    void *frames[64];
    int n = backtrace(frames, 64);
    for (int i = 0; i < n; i++) {
        const wb_mapped_plugin *p = wb_plugin_map_find(frames[i]);
        if (p) return p;
    }
    return NULL;
}

static void on_exit_called(int status, void *arg) {
    (void)arg;
    const wb_plugin_call *c = t_call;
    const wb_mapped_plugin *caller = plugin_on_stack();
    /* Not plugin code: only a success status mid-command is wrong (main
     * returned, a test program ended, or a failure status is already one). */
    if (!c && !caller && (!g_command_running || status != 0)) return;
    fflush(NULL);
    message m = {.n = 0};
    put(&m, "workbench: ");
    if (c || caller) {
        put_plugin(&m, c ? blamed_file(c) : caller, c);
        put(&m, " called exit(");
        put_int(&m, status);
        put(&m, ")");
        if (c) put_call(&m, c);
    } else {
        put(&m, "exit(");
        put_int(&m, status);
        put(&m, ") was called while the command was still running, not by workbench (a plugin's thread or a "
                "library)");
    }
    put(&m, "; the command did not finish, stopping with status 1");
    emit(&m);
    _exit(1);
}

/* Reports a stack overflow too: the handler then needs a stack of its own. */
static void ensure_alt_stack(void) {
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return; /* a sanitizer's */
    static char stack[64 * 1024];
    stack_t st = {.ss_sp = stack, .ss_size = sizeof stack};
    sigaltstack(&st, NULL);
}

static void install(void) {
    ensure_alt_stack();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_FATAL; i++) sigaction(g_fatal[i], &sa, &g_previous[i]);
    on_exit(on_exit_called, NULL);
    /* backtrace() loads its unwinder on first use: do that now, not inside exit(). */
    void *frame[1];
    backtrace(frame, 1);
}

void wb_plugin_guard_install(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
}
