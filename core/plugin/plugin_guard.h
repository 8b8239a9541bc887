/* Names the plugin at fault when plugin code crashes or ends the process.
 *
 * Every call into a plugin (module and dataset vtables, entry points,
 * constructors run by dlopen) is bracketed by WB_PLUGIN_CALL(_AT), which
 * keep a per-thread stack of "current plugin calls". Once installed:
 *  - a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) prints which
 *    plugin, module and method was running, then goes on to the handler that
 *    was there before (the default one, or the sanitizer's report);
 *  - exit() from plugin code prints which plugin called it and ends with
 *    status 1 instead of the status it asked for (a plugin's exit(0)
 *    mid-training must not look like success); so does exit(0) from
 *    anywhere while a command is still running (a plugin's own thread).
 * Code reached without a bracket (a plugin's own threads) is still named
 * when the faulting instruction or a caller of exit() lies inside a loaded
 * plugin file (plugin_map.h). */
#ifndef WB_CORE_PLUGIN_GUARD_H
#define WB_CORE_PLUGIN_GUARD_H

#include <workbench/plugin.h>

typedef struct wb_plugin_call {
    const void *plugin_data;    /* an address inside the plugin (its descriptor or vtable): names the file */
    const char *type;           /* the module type called, when known */
    const char *file;           /* at load time: the plugin file */
    const char *method;         /* "forward", "get", "entry point wb_plugin_entry_v1", ... */
    const char *where;          /* the instance ("head", "data.train.dataset"), or how the file was found */
    struct wb_plugin_call *outer;
} wb_plugin_call;

/* Installs the signal and exit handlers once (the loader calls it before the first dlopen). */
void wb_plugin_guard_install(void);
/* main() brackets the command: an exit() in between was not the command returning. */
void wb_plugin_guard_command_begin(void);
void wb_plugin_guard_command_end(void);

void wb_plugin_call_begin(wb_plugin_call *call, const void *plugin_data, const char *type, const char *method,
                          const char *where);
void wb_plugin_call_begin_file(wb_plugin_call *call, const char *file, const char *method, const char *where);
void wb_plugin_call_end(wb_plugin_call *call);

/* Runs `statement`, a call into plugin code (e.g. `st = vt->get(...)`), as a plugin call;
 * plugin_data is any address inside the plugin, type its module type or NULL. */
#define WB_PLUGIN_CALL_AT(plugin_data, type, method, where, statement)              \
    do {                                                                          \
        wb_plugin_call wb_call_;                                                  \
        wb_plugin_call_begin(&wb_call_, (plugin_data), (type), (method), (where)); \
        statement;                                                                \
        wb_plugin_call_end(&wb_call_);                                            \
    } while (0)
/* The same for a call into module desc's code (its descriptor is the plugin's data). */
#define WB_PLUGIN_CALL(desc, method, where, statement) \
    WB_PLUGIN_CALL_AT((desc), (desc)->type_name, method, where, statement)

#endif
