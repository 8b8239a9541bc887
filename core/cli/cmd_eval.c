/* workbench eval --gt instances.json --results results.json [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "eval/coco_json.h"
#include "eval/eval_table.h"

const char wb_help_eval[] =
    "Usage: workbench eval --gt INSTANCES.json --results RESULTS.json [--json]\n\n"
    "Evaluates a COCO results file produced by any tool against COCO ground truth, with\n"
    "pycocotools' exact semantics (loadRes + COCOeval bbox): prints the 12 summary lines\n"
    "(AP, AP50, AP75, APs/m/l, AR1/10/100, ARs/m/l) and the AP of every category.\n"
    "Results for images that are not in the ground truth are an error; results for\n"
    "categories that are not in it are ignored and counted.\n\n"
    "Options:\n"
    "  --gt FILE       COCO instances JSON (images, categories, annotations)\n"
    "  --results FILE  COCO results JSON: [{\"image_id\", \"category_id\", \"bbox\": [x,y,w,h], \"score\"}]\n"
    "  --json          print the 12 numbers and per-category AP as a JSON object instead\n\n"
    "Example:\n"
    "  workbench eval --gt data/coco/annotations/instances_val2017.json --results results.json\n";

typedef struct eval_args {
    const char *gt, *results;
    bool json;
} eval_args;

static int parse_args(int argc, char **argv, eval_args *a) {
    *a = (eval_args){0};
    for (int i = 1; i < argc; i++) {
        const char **target = strcmp(argv[i], "--gt") == 0        ? &a->gt
                              : strcmp(argv[i], "--results") == 0 ? &a->results
                                                                  : NULL;
        if (target) {
            if (i + 1 >= argc) return wb_cli_usage_error("eval", "%s needs a file name", argv[i]);
            *target = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = true;
        } else if (argv[i][0] == '-') {
            return wb_cli_usage_error("eval", "unknown option '%s'", argv[i]);
        } else {
            return wb_cli_usage_error("eval", "unexpected argument '%s' (evaluating an experiment's checkpoint is "
                                              "not available yet; pass --gt and --results)", argv[i]);
        }
    }
    if (!a->gt || !a->results) return wb_cli_usage_error("eval", "both --gt and --results are required");
    return WB_EXIT_OK;
}

static int report(const eval_args *a, const wb_coco_gt *gt, const wb_coco_summary *s) {
    if (a->json) {
        char *text = wb_coco_summary_json(s, gt);
        if (!text) {
            fprintf(stderr, "workbench eval: out of memory\n");
            return WB_EXIT_FAILURE;
        }
        printf("%s\n", text);
        free(text);
    } else {
        wb_coco_print_summary(stdout, s);
        printf("\n");
        wb_coco_print_category_table(stdout, s, gt);
    }
    if (s->n_detections_unknown_category > 0)
        fprintf(stderr, "workbench eval: note: %lld detection(s) with a category id that is not in %s were ignored\n",
                (long long)s->n_detections_unknown_category, a->gt);
    return WB_EXIT_OK;
}

int wb_cmd_eval(const wb_cli *cli, int argc, char **argv) {
    (void)cli;
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != WB_EXIT_OK) return rc;

    char err[512];
    wb_coco_gt gt;
    wb_coco_detection *dets = NULL;
    size_t n_dets = 0;
    wb_coco_summary s = {0};
    wb_status st = wb_coco_gt_load(a.gt, &gt, err, sizeof err);
    if (st == WB_OK) st = wb_coco_results_load(a.results, &dets, &n_dets, err, sizeof err);
    if (st == WB_OK) st = wb_coco_evaluate(&gt, dets, n_dets, &s, err, sizeof err);
    rc = st == WB_OK ? report(&a, &gt, &s) : WB_EXIT_FAILURE;
    if (st != WB_OK) fprintf(stderr, "workbench eval: %s\n", err);
    wb_coco_summary_free(&s);
    free(dets);
    wb_coco_gt_free(&gt);
    return rc;
}
