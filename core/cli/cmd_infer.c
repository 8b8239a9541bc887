#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/infer.h"
#include "experiment_args.h"

const char wb_help_infer[] =
    "Usage: workbench infer EXP.conf CHECKPOINT IMAGE_OR_DIR... [--out DIR] [--score-thr T] [--set key=value]...\n\n"
    "Runs a trained model on images (files, or folders of .jpg/.jpeg/.png) with the experiment's test pipeline\n"
    "(data.test, else data.val), and writes each image as DIR/<name>.jpg with its detections drawn (a colour per\n"
    "class, class name and score on a label), plus DIR/results.json with every detection in original pixels.\n\n"
    "Options:\n"
    "  --out DIR         where the pictures and results.json go (default: infer_out)\n"
    "  --score-thr T     keep detections scoring at least T (default 0.3)\n\n"
    "Example:\n"
    "  workbench infer configs/quickstart.conf work_dirs/quickstart/latest.safetensors pictures/ --out shown\n";

int wb_cmd_infer(const wb_cli *cli, int argc, char **argv) {
    /* Pull out infer's own options; the rest is an experiment command line. */
    wb_infer_opts o = {.out_dir = "infer_out", .score_thr = 0.3f};
    char *rest[256];
    int n_rest = 0;
    for (int i = 0; i < argc && n_rest < 256; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) o.out_dir = argv[++i];
        else if (strcmp(argv[i], "--score-thr") == 0 && i + 1 < argc) o.score_thr = (float)atof(argv[++i]);
        else rest[n_rest++] = argv[i];
    }
    wb_cli_experiment x;
    int rc = wb_cli_parse_experiment("infer", cli, n_rest, rest, false, &x);
    if (rc != WB_EXIT_OK) return rc;
    if (x.n_positional < 3) return wb_cli_usage_error("infer", "needs EXP.conf, a CHECKPOINT and images");
    o.inputs = &x.positional[2];
    o.n_inputs = x.n_positional - 2;
    wb_cli_trained t;
    if (wb_cli_check_checkpoint("infer", x.positional[1]) != WB_EXIT_OK) return WB_EXIT_FAILURE;
    rc = wb_cli_open_trained(cli, &x, x.positional[1], &t);
    if (rc == WB_EXIT_OK) rc = wb_infer_run(&t.e, t.s, t.m, &o, stderr);
    wb_cli_close_trained(&t);
    return rc;
}
