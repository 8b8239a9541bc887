/* The `workbench` command table and what every command shares: global
 * options, exit codes, help and usage-error printing, and loading plugins.
 *
 * Adding a command: write `int wb_cmd_NAME(const wb_cli *cli, int argc, char **argv)`
 * in core/cli/cmd_NAME.c with its help text, declare both below, and add one
 * line to the table in commands.c. */
#ifndef WB_CLI_COMMANDS_H
#define WB_CLI_COMMANDS_H

#include <stdbool.h>
#include "plugin/registry.h"
#include "plugin/search_path.h"

enum { WB_EXIT_OK = 0, WB_EXIT_FAILURE = 1, WB_EXIT_USAGE = 2 };

#define WB_CLI_MAX_PLUGIN_DIRS 32

/* Global options, accepted anywhere on the command line. */
typedef struct wb_cli {
    int threads;                    /* --threads N, else WB_THREADS, else 0 = every core */
    const char *plugin_dirs[WB_CLI_MAX_PLUGIN_DIRS]; /* --plugin-dir DIR, in order */
    int n_plugin_dirs;
} wb_cli;

/* argv[0] is the command name; argv holds no global options. */
typedef int (*wb_cmd_fn)(const wb_cli *cli, int argc, char **argv);

typedef struct wb_command {
    const char *name;
    const char *summary;   /* one line, for `workbench --help` */
    wb_cmd_fn run;
    const char *help;      /* usage, options and examples, for `workbench NAME --help` */
} wb_command;

extern const wb_command wb_commands[];
const wb_command *wb_find_command(const char *name);

/* Program help: usage, global options and the command list. */
void wb_cli_print_help(void);
/* true when argv (after argv[0]) asks for help. */
bool wb_cli_wants_help(int argc, char **argv);
/* Prints "workbench CMD: <message>" and a pointer to --help; returns WB_EXIT_USAGE. */
int wb_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An option's count: digits only, 1 to max (atoi would read "4294967297" as
 * 1 and "1e9" as 1). WB_EXIT_OK, or the usage error's exit code. */
int wb_cli_count(const char *cmd, const char *option, const char *text, int max, int *out);

/* The search path of the global options plus extra_dirs (the experiment's
 * plugin_dirs, may be NULL), then the defaults; scanned into reg. Returns false
 * (with a message on stderr) only when out of memory. */
bool wb_cli_load_plugins(const wb_cli *cli, const char *const *extra_dirs, int n_extra, wb_search_path *sp,
                         wb_registry *reg);

/* The commands of this file's table. */
int wb_cmd_plugins(const wb_cli *cli, int argc, char **argv);
int wb_cmd_describe(const wb_cli *cli, int argc, char **argv);
int wb_cmd_version(const wb_cli *cli, int argc, char **argv);
int wb_cmd_help(const wb_cli *cli, int argc, char **argv);
int wb_cmd_run(const wb_cli *cli, int argc, char **argv);
int wb_cmd_validate(const wb_cli *cli, int argc, char **argv);
int wb_cmd_gradcheck(const wb_cli *cli, int argc, char **argv);
int wb_cmd_reference(const wb_cli *cli, int argc, char **argv);
int wb_cmd_infer(const wb_cli *cli, int argc, char **argv);
int wb_cmd_bench(const wb_cli *cli, int argc, char **argv);
extern const char wb_help_bench[];
extern const char wb_help_infer[];
extern const char wb_help_reference[];
int wb_cmd_eval(const wb_cli *cli, int argc, char **argv);
int wb_cmd_check(const wb_cli *cli, int argc, char **argv);
extern const char wb_help_check[];
int wb_cmd_browse_dataset(const wb_cli *cli, int argc, char **argv);
extern const char wb_help_browse_dataset[];
int wb_cmd_dataset_stats(const wb_cli *cli, int argc, char **argv);
extern const char wb_help_dataset_stats[];
int wb_cmd_confusion_matrix(const wb_cli *cli, int argc, char **argv);
extern const char wb_help_confusion_matrix[];
int wb_cmd_convert_dataset(const wb_cli *cli, int argc, char **argv);
extern const char wb_help_convert_dataset[];
extern const char wb_help_eval[];
extern const char wb_help_run[], wb_help_validate[], wb_help_gradcheck[];
extern const char wb_help_plugins[], wb_help_describe[], wb_help_version[], wb_help_help[];
int wb_cmd_new_plugin(const wb_cli *cli, int argc, char **argv);
extern const char wb_help_new_plugin[];
int wb_cmd_evolve(const wb_cli *cli, int argc, char **argv);
extern const char wb_help_evolve[];
int wb_cmd_analyze_logs(const wb_cli *cli, int argc, char **argv);
extern const char wb_help_analyze_logs[];
int wb_cmd_print_config(const wb_cli *cli, int argc, char **argv);
extern const char wb_help_print_config[];
int wb_cmd_publish(const wb_cli *cli, int argc, char **argv);
extern const char wb_help_publish[];

#endif
