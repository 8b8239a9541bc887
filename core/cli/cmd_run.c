#include <stdio.h>
#include <string.h>
#include "app/train_run.h"
#include "experiment_args.h"

const char wb_help_run[] =
    "Usage: workbench run EXP.conf [--hyp FILE] [--set key=value]... [--work-dir DIR] [--resume [CKPT]]\n\n"
    "Trains the model of an experiment. The config is validated (with every plugin's parameter schema) before\n"
    "anything is written; then the work dir receives the effective config (config.conf), log.json,\n"
    "checkpoints (epoch_N.safetensors, latest.safetensors) and bad_samples.txt when samples were skipped,\n"
    "and YOLOv5's run files: results.csv / results.png (per-epoch train losses, precision, recall, mAP@0.5,\n"
    "mAP@0.5:0.95, val losses (the head's loss on the validation batches, as YOLOv5's val/ columns) and the\n"
    "lr of each parameter group (x/lr0 biases, x/lr1 weights, x/lr2 norm weights), from log.json),\n"
    "labels.jpg, train_batch0..2.jpg, and from the last validation\n"
    "val_batch0_labels.jpg / val_batch0_pred.jpg, PR_curve.png, F1_curve.png, P_curve.png, R_curve.png and\n"
    "confusion_matrix.png. Every validation prints YOLOv5's per-class table (ap_per_class) after its own.\n"
    "run.log holds an environment header (version, commit, compiler, CPU flags, oneDNN, threads, the command\n"
    "line), every log line and the validation tables; tensorboard/ the TensorBoard event files\n"
    "(log.tensorboard; `tensorboard --logdir WORK_DIR`). A resumed run appends to log.json after a\n"
    "{\"mode\": \"resume\"} line; a new run in a work dir\n"
    "another run used moves that run's log.json, run.log and tensorboard/ to history/<its last write time>/.\n"
    "work_dir (and --work-dir) may hold {date} (20261206), {time} (160512) and {n}, YOLOv5's run number:\n"
    "runs/exp{n} is runs/exp, then runs/exp2, runs/exp3, ...; with --resume, {n} is the highest taken.\n"
    "The run holds a lock on its work dir (.workbench.lock): a second run there fails at once with the first\n"
    "one's pid. `/`, $HOME and a folder whose config.conf is the experiment itself are refused.\n"
    "Ctrl-C, SIGTERM and SIGHUP save interrupted.safetensors after the iteration in progress (during a\n"
    "validation: after its batch in progress, the epoch saved without that validation); then Ctrl-C\n"
    "exits 0, SIGTERM and SIGHUP exit with 128 + the signal number (143, 129) as schedulers expect.\n"
    "train.freeze = { modules = [\"backbone\"]; epochs = 50; batch_size = 8; lr = 1e-4; } trains the first epochs\n"
    "with those modules frozen, at their own batch size and lr (the switch is logged; --resume works in both).\n"
    "Under mpirun (mpirun -np 4 workbench run EXP.conf) the ranks train one model data-parallel: each reads its\n"
    "shard of every epoch with data.batch_size images per iteration, gradients are averaged before each step\n"
    "(train.sync_bn: batch norm statistics too), rank 0 alone writes the work dir, and a failing rank ends the\n"
    "job; --resume takes a checkpoint of another number of ranks at an epoch's end.\n\n"
    "Options:\n"
    "  --hyp FILE        a YOLOv5 hyp YAML (lr0, momentum, box, hsv_h, degrees, mosaic, ...): each value goes to\n"
    "                    its key (optimizer.lr, the head's box, the train pipeline's yolo_hsv hgain, ...) and\n"
    "                    shows in the effective config; --set wins over it; an unknown name is an error and a\n"
    "                    name with no target in this experiment (mixup without a mixup step) a warning\n"
    "  --set key=value   override a config value (typed like the config: 0.02, true, \"text\", [1, 2])\n"
    "  --work-dir DIR    write here instead of the experiment's work_dir\n"
    "  --resume [CKPT]   continue exactly from CKPT, or from the work dir's latest checkpoint\n\n"
    "Examples:\n"
    "  workbench run configs/quickstart.conf\n"
    "  workbench run configs/quickstart.conf --set optimizer.lr=0.01 --set schedule.max_epochs=24\n"
    "  workbench run configs/quickstart.conf --resume\n"
    "  workbench run my_yolov5.conf --hyp hyp.scratch-low.yaml\n"
    "  mpirun -np 2 workbench run configs/quickstart.conf --set train.sync_bn=true\n";

int wb_cmd_run(const wb_cli *cli, int argc, char **argv) {
    wb_cli_experiment x;
    int rc = wb_cli_parse_experiment("run", cli, argc, argv, true, &x);
    if (rc != WB_EXIT_OK) return rc;
    if (x.n_positional > 1) return wb_cli_usage_error("run", "unexpected argument '%s'", x.positional[1]);
    if (x.resume && strcmp(x.resume, "auto") != 0 && wb_cli_check_checkpoint("run", x.resume) != WB_EXIT_OK)
        return WB_EXIT_FAILURE;
    wb_experiment e;
    if (wb_experiment_open(&e, &x.args, stderr) != 0) {
        wb_experiment_close(&e);
        return WB_EXIT_USAGE;
    }
    wb_run_args ra = {x.work_dir, x.resume, cli->threads};
    rc = wb_train_run(&e, &ra);
    wb_experiment_close(&e);
    return rc;
}
