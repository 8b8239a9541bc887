/* workbench confusion-matrix EXP.conf CKPT [--split S] [--out DIR]
 * workbench confusion-matrix --gt INSTANCES.json --results RESULTS.json [--out DIR] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/confusion_matrix_cmd.h"
#include "app/data_split.h"
#include "app/evaluate.h"
#include "experiment_args.h"

const char wb_help_confusion_matrix[] =
    "Usage: workbench confusion-matrix EXP.conf CHECKPOINT [--split S] [--out DIR] [--set key=value]...\n"
    "       workbench confusion-matrix --gt INSTANCES.json --results RESULTS.json [--out DIR]\n\n"
    "YOLOv5's confusion matrix (utils/metrics.py ConfusionMatrix): detections scoring above 0.25 matched to\n"
    "labels at IoU > 0.45; rows are predicted classes, columns true classes, background last in both (a\n"
    "missed object counts in the background row, a detection of nothing in the background column). Written\n"
    "normalised, each true class's column summing to 1, as DIR/confusion_matrix.png and DIR/confusion_matrix.csv\n"
    "(first row and column: the class names).\n\n"
    "The first form runs the checkpoint over data.S (default val), as `workbench eval` does; the second\n"
    "reads a COCO results file (`workbench eval --out`, `infer`, or any detector's) against COCO ground truth.\n\n"
    "Options:\n"
    "  --split S        the split to predict (first form; default val)\n"
    "  --out DIR        where the picture and the CSV go (default .)\n"
    "  --gt FILE        COCO instances JSON (second form)\n"
    "  --results FILE   COCO results JSON: [{\"image_id\", \"category_id\", \"bbox\", \"score\"}] (second form)\n\n"
    "Exit 0 when written, 1 when the model, the data or a file fails, 2 on usage errors.\n\n"
    "Examples:\n"
    "  workbench confusion-matrix configs/quickstart.conf work_dirs/quickstart/latest.ckpt --out /tmp/cm\n"
    "  workbench confusion-matrix --gt instances_val2017.json --results results.json\n";

static int write(const wb_confusion *m, const char *const *names, const char *dir) {
    char err[1024];
    if (wb_confusion_write(m, names, dir, err, sizeof err) != WB_OK) {
        fprintf(stderr, "workbench confusion-matrix: %s\n", err);
        return WB_EXIT_FAILURE;
    }
    printf("confusion matrix of %d classes + background: %s/confusion_matrix.png, %s/confusion_matrix.csv\n",
           m->num_classes, dir, dir);
    return WB_EXIT_OK;
}

static int from_results(int argc, char **argv) {
    const char *gt = NULL, *results = NULL, *out = ".";
    for (int i = 1; i < argc; i++) {
        const char **slot = !strcmp(argv[i], "--gt") ? &gt : !strcmp(argv[i], "--results") ? &results
                          : !strcmp(argv[i], "--out") ? &out : NULL;
        if (!slot) return wb_cli_usage_error("confusion-matrix", "unexpected argument '%s'", argv[i]);
        if (i + 1 >= argc) return wb_cli_usage_error("confusion-matrix", "%s wants a value", argv[i]);
        *slot = argv[++i];
    }
    if (!gt || !results) return wb_cli_usage_error("confusion-matrix", "both --gt and --results are required");
    wb_confusion m;
    char **names = NULL, err[1024];
    int rc = WB_EXIT_FAILURE;
    if (wb_confusion_from_results(gt, results, &m, &names, err, sizeof err) != WB_OK)
        fprintf(stderr, "workbench confusion-matrix: %s\n", err);
    else rc = write(&m, (const char *const *)names, out);
    for (int k = 0; names && k < m.num_classes; k++) free(names[k]);
    free(names);
    wb_confusion_free(&m);
    return rc;
}

static int from_checkpoint(const wb_cli *cli, int argc, char **argv) {
    const char *split = "val", *out = ".";
    char *rest[256];
    int n_rest = 0;
    for (int i = 0; i < argc && n_rest < 256; i++) {
        if (strcmp(argv[i], "--split") == 0 && i + 1 < argc) split = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
        else rest[n_rest++] = argv[i];
    }
    wb_cli_experiment x;
    int rc = wb_cli_parse_experiment("confusion-matrix", cli, n_rest, rest, false, &x);
    if (rc != WB_EXIT_OK) return rc;
    if (x.n_positional != 2) return wb_cli_usage_error("confusion-matrix", "needs EXP.conf and a CHECKPOINT");
    if (wb_cli_check_checkpoint("confusion-matrix", x.positional[1]) != WB_EXIT_OK) return WB_EXIT_FAILURE;
    wb_cli_trained t;
    rc = wb_cli_open_trained(cli, &x, x.positional[1], &t);
    if (rc == WB_EXIT_OK && !wb_data_split_exists(&t.e, split))
        rc = wb_cli_usage_error("confusion-matrix", "the experiment has no data.%s", split);
    if (rc == WB_EXIT_OK) {
        char err[2048];
        wb_eval_result res;
        wb_val_record rec = {0};
        if (wb_evaluate_split_recorded(&t.e, t.s, t.m, split, NULL, stdout, &res, &rec, err, sizeof err) != WB_OK) {
            fprintf(stderr, "workbench confusion-matrix: %s\n", err);
            rc = WB_EXIT_FAILURE;
        } else {
            rc = write(&rec.confusion, (const char *const *)rec.names, out);
        }
        wb_val_record_free(&rec);
    }
    wb_cli_close_trained(&t);
    return rc;
}

int wb_cmd_confusion_matrix(const wb_cli *cli, int argc, char **argv) {
    if (argc > 1 && argv[1][0] != '-') return from_checkpoint(cli, argc, argv);
    return from_results(argc, argv);
}
