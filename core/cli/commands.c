#include "commands.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const wb_command wb_commands[] = {
    {"run", "Train a model from an experiment file", wb_cmd_run, wb_help_run},
    {"evolve", "Evolve an experiment's hyperparameters as YOLOv5 does (train.py --evolve)", wb_cmd_evolve,
     wb_help_evolve},
    {"analyze-logs", "Curves of log.json keys for several runs in one picture, and epoch times", wb_cmd_analyze_logs,
     wb_help_analyze_logs},
    {"print-config", "Print the effective config with each value's origin (file:line, --set, default)",
     wb_cmd_print_config, wb_help_print_config},
    {"publish", "Strip a checkpoint for release: no optimizer state, optional fp16, its hash in the name",
     wb_cmd_publish, wb_help_publish},
    {"validate", "Check an experiment (config, plugins, shapes) without loading data", wb_cmd_validate,
     wb_help_validate},
    {"check", "Scan an experiment's datasets for defects (the dataset doctor)", wb_cmd_check, wb_help_check},
    {"browse-dataset", "Pictures of a split's samples after the transform pipeline, with boxes and class names",
     wb_cmd_browse_dataset, wb_help_browse_dataset},
    {"dataset-stats", "Instances per class, box sizes and aspects, empty images of a split, and labels.jpg",
     wb_cmd_dataset_stats, wb_help_dataset_stats},
    {"confusion-matrix", "YOLOv5's normalised confusion matrix (with background) of a checkpoint or a results file",
     wb_cmd_confusion_matrix, wb_help_confusion_matrix},
    {"convert-dataset", "Convert annotations between COCO, Pascal VOC and YOLO (boxes, classes, image list kept)",
     wb_cmd_convert_dataset, wb_help_convert_dataset},
    {"eval", "Evaluate a checkpoint on a split, or a COCO results file (COCO mAP as pycocotools, VOC mAP)", wb_cmd_eval,
     wb_help_eval},
    {"infer", "Run a trained model on images and draw its detections", wb_cmd_infer, wb_help_infer},
    {"bench", "Time forward, backward and optimizer step per module, with peak memory", wb_cmd_bench,
     wb_help_bench},
    {"gradcheck", "Check a module's backward against finite differences and its declared shapes",
     wb_cmd_gradcheck, wb_help_gradcheck},
    {"plugins", "List the plugin search path, every plugin file and every module", wb_cmd_plugins,
     wb_help_plugins},
    {"describe", "Show one module type's summary and parameters", wb_cmd_describe, wb_help_describe},
    {"new-plugin", "Write a plugin skeleton (backbone, neck, head, loss or dataset) that builds and loads as is",
     wb_cmd_new_plugin, wb_help_new_plugin},
    {"version", "Show the version, plugin ABI and backend", wb_cmd_version, wb_help_version},
    {"reference", "Write the configuration reference (Markdown) from every schema", wb_cmd_reference,
     wb_help_reference},
    {"help", "Show help for workbench or one command", wb_cmd_help, wb_help_help},
    {NULL, NULL, NULL, NULL},
};

const wb_command *wb_find_command(const char *name) {
    for (const wb_command *c = wb_commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

void wb_cli_print_help(void) {
    printf("workbench: an object-detection training workbench.\n\n"
           "Usage: workbench [global options] <command> [options]\n\n"
           "Commands:\n");
    for (const wb_command *c = wb_commands; c->name; c++) printf("  %-12s %s\n", c->name, c->summary);
    printf("\nGlobal options (anywhere on the command line):\n"
           "  --threads N       kernel threads (default: WB_THREADS, else every core)\n"
           "  --plugin-dir DIR  also search DIR for plugins, before $WB_PLUGIN_PATH (repeatable)\n"
           "  -h, --help        show this help; `workbench <command> --help` for a command\n\n"
           "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.\n\n"
           "Examples:\n"
           "  workbench run configs/quickstart.conf\n"
           "  workbench eval configs/quickstart.conf work_dirs/quickstart/latest.safetensors\n"
           "  workbench plugins -v\n"
           "  workbench describe resnet\n"
           "  WB_PLUGIN_PATH=$HOME/my_plugins workbench plugins --json\n");
}

bool wb_cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return true;
    return false;
}

int wb_cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "workbench%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'workbench%s%s --help' for usage.\n", cmd ? " " : "", cmd ? cmd : "");
    return WB_EXIT_USAGE;
}

int wb_cli_count(const char *cmd, const char *option, const char *text, int max, int *out) {
    char *end = NULL;
    errno = 0;
    long long v = text && isdigit((unsigned char)text[0]) ? strtoll(text, &end, 10) : 0;
    if (!end || *end || errno || v < 1 || v > max)
        return wb_cli_usage_error(cmd, "%s wants an integer from 1 to %d, got '%s'", option, max, text ? text : "");
    *out = (int)v;
    return WB_EXIT_OK;
}

bool wb_cli_load_plugins(const wb_cli *cli, const char *const *extra_dirs, int n_extra, wb_search_path *sp,
                         wb_registry *reg) {
    bool ok = true;
    for (int i = 0; ok && i < cli->n_plugin_dirs; i++) ok = wb_search_path_add(sp, cli->plugin_dirs[i], "--plugin-dir");
    for (int i = 0; ok && i < n_extra; i++) ok = wb_search_path_add(sp, extra_dirs[i], "plugin_dirs");
    ok = ok && wb_search_path_add_defaults(sp);
    if (!ok) {
        fprintf(stderr, "workbench: out of memory while building the plugin search path\n");
        return false;
    }
    wb_registry_scan(reg, sp);
    return true;
}

const char wb_help_help[] =
    "Usage: workbench help [COMMAND]\n\n"
    "Shows the program's help, or COMMAND's (the same as `workbench COMMAND --help`).\n";

int wb_cmd_help(const wb_cli *cli, int argc, char **argv) {
    (void)cli;
    if (argc > 2) return wb_cli_usage_error("help", "expected at most one command name");
    if (argc < 2) {
        wb_cli_print_help();
        return WB_EXIT_OK;
    }
    const wb_command *c = wb_find_command(argv[1]);
    if (!c) return wb_cli_usage_error("help", "unknown command '%s'", argv[1]);
    fputs(c->help, stdout);
    return WB_EXIT_OK;
}
