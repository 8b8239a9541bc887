#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/infer.h"
#include "experiment_args.h"

const char wb_help_infer[] =
    "Usage: workbench infer EXP.conf CHECKPOINT IMAGE_OR_DIR... [--out DIR] [--score-thr T] [--results-thr T]\n"
    "                       [--set key=value]...\n\n"
    "Runs a trained model on images (files, or folders of .jpg/.jpeg/.png) with the experiment's test pipeline\n"
    "(data.test, else data.val, else data.train), and writes:\n"
    "  DIR/<name>.jpg               each image with its detections drawn (a colour per class, class name and\n"
    "                               score on a label), those scoring at least --score-thr\n"
    "  DIR/results.json             COCO results, every detection in original pixels:\n"
    "                               [{\"image_id\", \"category_id\", \"bbox\": [x, y, w, h], \"score\"}, ...]\n"
    "  DIR/results.images.json      {\"images\": [{\"id\", \"file_name\", \"width\", \"height\"}]}: the image ids\n"
    "  DIR/results.categories.json  {\"categories\": [{\"id\", \"name\"}]}: the category ids\n"
    "Image ids are the file names when every name is a number (COCO's 000000000139.jpg is image 139), else the\n"
    "0-based position in the list of images (folders in name order). Category ids are the dataset's own\n"
    "(coco), or 1..K in class order (voc, yolo, synthetic), as `workbench eval --out` writes them, so\n"
    "`workbench eval --gt instances.json --results DIR/results.json` scores them.\n"
    "Class names and category ids come from the checkpoint (training stores them), so the dataset's annotation\n"
    "files need not be there; for a checkpoint without them (older ones, converted weights) from the dataset.\n\n"
    "Options:\n"
    "  --out DIR          where the pictures and results go (default: infer_out)\n"
    "  --score-thr T      pictures show detections scoring at least T (default 0.25, YOLOv5 detect.py's\n"
    "                     conf-thres, for every head)\n"
    "  --results-thr T    results.json keeps detections scoring at least T (default 0: every detection the head\n"
    "                     keeps at its own test score_thr, as `workbench eval` scores them)\n\n"
    "Example:\n"
    "  workbench infer configs/quickstart.conf work_dirs/quickstart/latest.safetensors pictures/ --out shown\n";

/* A score threshold from 0 to 1. */
static int parse_thr(const char *option, const char *text, float *out) {
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text || *end || !(v >= 0.0 && v <= 1.0))
        return wb_cli_usage_error("infer", "%s wants a score from 0 to 1, got '%s'", option, text);
    *out = (float)v;
    return WB_EXIT_OK;
}

int wb_cmd_infer(const wb_cli *cli, int argc, char **argv) {
    /* Pull out infer's own options; the rest is an experiment command line. */
    wb_infer_opts o = {.out_dir = "infer_out", .score_thr = 0.25f, .results_thr = 0.0f};
    char *rest[256];
    int n_rest = 0;
    for (int i = 0; i < argc && n_rest < 256; i++) {
        float *thr = strcmp(argv[i], "--score-thr") == 0     ? &o.score_thr
                     : strcmp(argv[i], "--results-thr") == 0 ? &o.results_thr
                                                             : NULL;
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            o.out_dir = argv[++i];
        } else if (thr && i + 1 < argc) {
            int rc = parse_thr(argv[i], argv[i + 1], thr);
            if (rc != WB_EXIT_OK) return rc;
            i++;
        } else {
            rest[n_rest++] = argv[i];
        }
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
    o.checkpoint = x.positional[1];
    if (rc == WB_EXIT_OK) rc = wb_infer_run(&t.e, t.s, t.m, &o, stderr);
    wb_cli_close_trained(&t);
    return rc;
}
