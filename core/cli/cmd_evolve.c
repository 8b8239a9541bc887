#include <stdio.h>
#include <string.h>
#include "app/data_split.h"
#include "app/evolve.h"
#include "config/params.h"
#include "experiment_args.h"

#define MAX_GENERATIONS 100000

const char wb_help_evolve[] =
    "Usage: workbench evolve EXP.conf --generations N [--epochs E] [--hyp FILE] [--set key=value]...\n"
    "                        [--work-dir DIR]\n\n"
    "YOLOv5's hyperparameter evolution (train.py --evolve). Each generation trains the experiment once, as\n"
    "`workbench run EXP.conf --hyp DIR/gen_G/hyp.yaml --work-dir DIR/gen_G`, with the hyperparameters of a parent\n"
    "drawn among the five fittest generations so far (weighted by fitness = 0.1 mAP@0.5 + 0.9 mAP@0.5:0.95) and\n"
    "mutated as YOLOv5 does (each value with probability 0.8, times 1 + N(0,1) x 0.2 x gain x a uniform draw,\n"
    "clipped to [0.3, 3], then to the key's bounds; YOLOv5's per-key gains and bounds). The first generation\n"
    "trains the starting values: YOLOv5's hyp.scratch-low.yaml, or those of --hyp FILE.\n"
    "DIR (the experiment's work_dir, or --work-dir) receives:\n"
    "  evolve.csv       one row per generation, YOLOv5's columns: metrics/precision, metrics/recall,\n"
    "                   metrics/mAP_0.5, metrics/mAP_0.5:0.95, val/box_loss, val/obj_loss, val/cls_loss (the\n"
    "                   head's val/loss_box, val/loss_obj, val/loss_cls), then the 29 hyperparameters; results\n"
    "                   the runs do not log (a head without such a loss term) are 0\n"
    "  hyp_evolve.yaml  the fittest generation's hyperparameters: train with them using --hyp\n"
    "  gen_G/           each generation's run (log.json, checkpoints, config.conf)\n"
    "N counts every generation, those already in evolve.csv included: a stopped evolution (Ctrl-C, SIGTERM)\n"
    "run again with the same command continues with the generation it stopped in.\n\n"
    "Options:\n"
    "  --generations N   generations in all (YOLOv5's --evolve N; it suggests 300)\n"
    "  --epochs E        train each generation for E epochs (schedule.max_epochs), evaluating at the end only;\n"
    "                    for experiments that count epochs (without it, each run is the experiment's length)\n"
    "  --hyp FILE        starting hyperparameters (a YOLOv5 hyp YAML); names must be ones evolution mutates\n"
    "  --set key=value   override a config value in every run\n"
    "  --work-dir DIR    write here instead of the experiment's work_dir\n\n"
    "Examples:\n"
    "  workbench evolve configs/yolov5/yolov5_n_bccd.conf --generations 300 --epochs 10\n"
    "  workbench run configs/yolov5/yolov5_n_bccd.conf --hyp work_dirs/yolov5_n_bccd/hyp_evolve.yaml\n";

/* Takes --generations and --epochs out of argv (the rest is an experiment's command line). */
static int take_counts(int *argc, char **argv, int *generations, int *epochs) {
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        int *target = !strcmp(argv[i], "--generations") ? generations : !strcmp(argv[i], "--epochs") ? epochs : NULL;
        if (!target) {
            argv[out++] = argv[i];
            continue;
        }
        if (i + 1 >= *argc) return wb_cli_usage_error("evolve", "%s wants a number", argv[i]);
        int rc = wb_cli_count("evolve", argv[i], argv[i + 1], MAX_GENERATIONS, target);
        if (rc != WB_EXIT_OK) return rc;
        i++;
    }
    *argc = out;
    return WB_EXIT_OK;
}

int wb_cmd_evolve(const wb_cli *cli, int argc, char **argv) {
    int generations = 0, epochs = 0;
    int rc = take_counts(&argc, argv, &generations, &epochs);
    if (rc != WB_EXIT_OK) return rc;
    wb_cli_experiment x;
    rc = wb_cli_parse_experiment("evolve", cli, argc, argv, true, &x);
    if (rc != WB_EXIT_OK) return rc;
    if (x.n_positional > 1) return wb_cli_usage_error("evolve", "unexpected argument '%s'", x.positional[1]);
    if (x.resume)
        return wb_cli_usage_error("evolve", "--resume is not an evolve option: run the same command again and it "
                                  "continues from DIR/evolve.csv");
    if (generations < 1) return wb_cli_usage_error("evolve", "--generations N is required");
    /* Validated once here, so a broken experiment fails before the first generation starts. */
    const char *hyp = x.args.hyp;
    wb_experiment e;
    if (wb_experiment_open(&e, &x.args, stderr) != 0) {
        wb_experiment_close(&e);
        return WB_EXIT_USAGE;
    }
    if (!wb_data_split_exists(&e, "val")) {
        wb_experiment_close(&e);
        return wb_cli_usage_error("evolve", "the experiment has no data.val: evolution ranks generations by their "
                                  "validation mAP");
    }
    if (epochs > 0 && !wb_params_bool(wb_config_params(e.cfg, "schedule"), "by_epoch")) {
        wb_experiment_close(&e);
        return wb_cli_usage_error("evolve", "--epochs sets schedule.max_epochs, and this experiment counts "
                                  "iterations (schedule.by_epoch = false): leave --epochs out and shorten the runs "
                                  "with --set schedule.max_iters=N");
    }
    char threads[32];
    const char *globals[2 * WB_CLI_MAX_PLUGIN_DIRS + 2];
    int n_globals = 0;
    if (cli->threads > 0) {
        snprintf(threads, sizeof threads, "%d", cli->threads);
        globals[n_globals++] = "--threads", globals[n_globals++] = threads;
    }
    for (int i = 0; i < cli->n_plugin_dirs; i++)
        globals[n_globals++] = "--plugin-dir", globals[n_globals++] = cli->plugin_dirs[i];
    wb_evolve_args ea = {
        .exp_path = x.args.path, .overrides = x.overrides, .n_overrides = x.args.n_overrides, .hyp = hyp,
        .work_dir = x.work_dir, .generations = generations, .epochs = epochs, .global_args = globals,
        .n_global_args = n_globals,
    };
    rc = wb_evolve(&e, &ea);
    wb_experiment_close(&e);
    return rc;
}
