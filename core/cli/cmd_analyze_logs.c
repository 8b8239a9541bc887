/* workbench analyze-logs LOG.json... [--keys KEY...] [--out FILE] [--train-time] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/analyze_logs.h"
#include "commands.h"

const char wb_help_analyze_logs[] =
    "Usage: workbench analyze-logs LOG.json... [--keys KEY...] [--out FILE] [--legend NAME...] [--title TEXT]\n"
    "       workbench analyze-logs LOG.json... --train-time [--include-outliers]\n\n"
    "mmdetection's analyze_logs.py for the log.json files of runs (work_dir/log.json, or an earlier run's\n"
    "work_dir/history/STAMP/log.json).\n\n"
    "The first form draws the curves of KEYs (any number a train or val line holds: loss, loss_cls, lr,\n"
    "grad_norm, bbox_mAP, mAP_0.5, val/loss, ...), one panel per key with one line per log, into FILE (.png,\n"
    "or .jpg; default curves.png). The x axis is the epoch (train lines at epoch - 1 + iter / iterations per\n"
    "epoch, the latter being the largest iter the log shows), or the iteration for iteration-based runs.\n"
    "Lines are labelled with each log's folder name, or the --legend names (one per log).\n\n"
    "The second form prints, for each log, the slowest and the fastest epoch and their seconds per iteration,\n"
    "the spread over epochs and the average (cal_train_time): each epoch's train lines' `time` weighted by the\n"
    "iterations each covers, the first line of an epoch left out (it holds the data loader's warm-up) unless\n"
    "--include-outliers.\n\n"
    "Options:\n"
    "  --keys KEY...       keys to plot (default: loss)\n"
    "  --out FILE          the picture (default: curves.png)\n"
    "  --legend NAME...    one label per log\n"
    "  --title TEXT        a title above the panels\n"
    "  --train-time        print the epochs' times (plots too when --keys or --out is given)\n"
    "  --include-outliers  with --train-time: keep each epoch's first log line\n\n"
    "Exit codes: 0 ok, 1 a log cannot be read or the picture written, 2 usage, or a key a log does not have\n"
    "(the message lists the keys it has).\n\n"
    "Examples:\n"
    "  workbench analyze-logs work_dirs/a/log.json work_dirs/b/log.json --keys loss_cls bbox_mAP --out cmp.png\n"
    "  workbench analyze-logs work_dirs/a/log.json --train-time\n";

/* The values after an option, up to the next option: their count. */
static int values_after(int argc, char **argv, int i) {
    int n = 0;
    while (i + 1 + n < argc && strncmp(argv[i + 1 + n], "--", 2) != 0) n++;
    return n;
}

int wb_cmd_analyze_logs(const wb_cli *cli, int argc, char **argv) {
    (void)cli;
    const char *default_keys[] = {"loss"};
    wb_analyze_opts o = {.keys = default_keys, .n_keys = 1, .out = "curves.png"};
    const char **logs = calloc((size_t)argc, sizeof *logs);
    if (!logs) return WB_EXIT_FAILURE;
    o.logs = logs;
    bool train_time = false, plot = false;
    int n_legends = 0, rc = WB_EXIT_OK;
    for (int i = 1; i < argc && rc == WB_EXIT_OK; i++) {
        const char *a = argv[i];
        int n = values_after(argc, argv, i);
        if (strcmp(a, "--keys") == 0 || strcmp(a, "--legend") == 0) {
            if (n == 0) rc = wb_cli_usage_error("analyze-logs", "%s wants at least one value", a);
            if (a[2] == 'k') o.keys = (const char *const *)argv + i + 1, o.n_keys = n, plot = true;
            else o.legends = (const char *const *)argv + i + 1, n_legends = n;
            i += n;
        } else if (strcmp(a, "--out") == 0 || strcmp(a, "--title") == 0) {
            if (n != 1) rc = wb_cli_usage_error("analyze-logs", "%s wants one value", a);
            else if (a[2] == 'o') o.out = argv[++i], plot = true;
            else o.title = argv[++i];
        } else if (strcmp(a, "--train-time") == 0) {
            train_time = true;
        } else if (strcmp(a, "--include-outliers") == 0) {
            o.include_outliers = true;
        } else if (strncmp(a, "--", 2) == 0) {
            rc = wb_cli_usage_error("analyze-logs", "unknown option '%s'", a);
        } else {
            logs[o.n_logs++] = a;
        }
    }
    if (rc == WB_EXIT_OK && o.n_logs == 0) rc = wb_cli_usage_error("analyze-logs", "name at least one log.json");
    if (rc == WB_EXIT_OK && o.legends && n_legends != o.n_logs)
        rc = wb_cli_usage_error("analyze-logs", "--legend names %d label%s for %d log%s; give one per log", n_legends,
                                n_legends == 1 ? "" : "s", o.n_logs, o.n_logs == 1 ? "" : "s");
    if (rc == WB_EXIT_OK && o.include_outliers && !train_time)
        rc = wb_cli_usage_error("analyze-logs", "--include-outliers goes with --train-time");
    if (rc == WB_EXIT_OK && train_time) rc = wb_analyze_logs_train_time(&o, stdout);
    if (rc == WB_EXIT_OK && (plot || !train_time)) rc = wb_analyze_logs_plot(&o, stderr);
    free(logs);
    return rc;
}
