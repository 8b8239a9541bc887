/* workbench <command> [options]: global options are taken out of argv here,
 * the rest goes to the command. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "config/core_schema.h"
#include "plugin/plugin_guard.h"

/* A positive thread count, or 0 with *ok false. */
static int parse_threads(const char *text, bool *ok) {
    char *end = NULL;
    errno = 0;
    long n = text ? strtol(text, &end, 10) : 0;
    *ok = text && *text && *end == '\0' && errno == 0 && n >= 1 && n <= WB_MAX_THREADS;
    return *ok ? (int)n : 0;
}

/* Removes the global options from argv (in place); returns the new argc or -1 after a usage error. */
static int take_global_options(wb_cli *cli, int argc, char **argv) {
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool is_threads = strcmp(a, "--threads") == 0, is_dir = strcmp(a, "--plugin-dir") == 0;
        if (!is_threads && !is_dir) {
            argv[kept++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) return wb_cli_usage_error(NULL, "%s needs a value", a), -1;
        const char *value = argv[++i];
        if (is_threads) {
            bool ok;
            cli->threads = parse_threads(value, &ok);
            if (!ok)
                return wb_cli_usage_error(NULL, "--threads wants an integer from 1 to %d (oneDNN's limit), got '%s'",
                                          WB_MAX_THREADS, value), -1;
        } else {
            if (cli->n_plugin_dirs == WB_CLI_MAX_PLUGIN_DIRS)
                return wb_cli_usage_error(NULL, "at most %d --plugin-dir options", WB_CLI_MAX_PLUGIN_DIRS), -1;
            cli->plugin_dirs[cli->n_plugin_dirs++] = value;
        }
    }
    argv[kept] = NULL;
    return kept;
}

int main(int argc, char **argv) {
    wb_cli cli = {0};
    const char *env_threads = getenv("WB_THREADS");
    if (env_threads && *env_threads) {
        bool ok;
        cli.threads = parse_threads(env_threads, &ok);
        if (!ok)
            return wb_cli_usage_error(NULL, "WB_THREADS wants an integer from 1 to %d (oneDNN's limit), got '%s'",
                                      WB_MAX_THREADS, env_threads);
    }
    argc = take_global_options(&cli, argc, argv);
    if (argc < 0) return WB_EXIT_USAGE;
    if (argc < 2) {
        wb_cli_print_help();
        return WB_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        wb_cli_print_help();
        return WB_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) name = "version";
    const wb_command *cmd = wb_find_command(name);
    if (!cmd) return wb_cli_usage_error(NULL, "unknown command '%s'", name);
    if (wb_cli_wants_help(argc - 1, argv + 1)) {
        fputs(cmd->help, stdout);
        return WB_EXIT_OK;
    }
    /* An exit() before run returns is not the command finishing (a plugin's exit(0) must not read as success). */
    wb_plugin_guard_command_begin();
    int status = cmd->run(&cli, argc - 1, argv + 1);
    wb_plugin_guard_command_end();
    return status;
}
