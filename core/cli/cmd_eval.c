/* workbench eval EXP.conf CKPT [--out results.json] [--split val]
 * workbench eval --gt instances.json --results results.json [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/data_split.h"
#include "app/evaluate.h"
#include "app/train_ranks.h"
#include "commands.h"
#include "dist/dist.h"
#include "experiment_args.h"
#include "eval/coco_json.h"
#include "eval/eval_table.h"

const char wb_help_eval[] =
    "Usage: workbench eval EXP.conf CHECKPOINT [--split val|test|train] [--out RESULTS.json] [--set key=value]...\n"
    "       workbench eval --gt INSTANCES.json --results RESULTS.json [--json]\n\n"
    "The first form runs a trained model over a split of the experiment's data (val by default) and prints the\n"
    "metric of `evaluation.metric`: COCO bbox (the 12 numbers and per-class AP), VOC mAP (per-class table)\n"
    "or proposal (a proposal network such as rpn_head alone: recall of its 100, 300 and 1000 best boxes per\n"
    "image at IoU 0.50..0.95 and AR@100/300/1000, mmdetection's proposal_fast; classes are not looked at),\n"
    "then the time it took: images, seconds, images/s, split into inference (loading, model, decoding) and\n"
    "evaluation (ground truth, matching, metric, writing results).\n"
    "--out also writes the detections as a COCO results JSON in original-image pixels, and beside it\n"
    "RESULTS.categories.json: {\"categories\": [{\"id\", \"name\"}, ...]}, what its category ids mean (a COCO\n"
    "ground truth's categories block). A coco dataset keeps its own category ids; voc, yolo and synthetic\n"
    "data have none and are numbered 1..K in class order (`classes`, the names file), COCO's convention, so\n"
    "a COCO conversion of their annotations that numbers from 1 matches. (mmdetection's pascal_voc.py\n"
    "numbers from 0: add 1 to its ids, or take the categories block from the companion.) Image ids are the\n"
    "dataset's (voc, yolo: the 0-based position in the split file or image list).\n\n"
    "The second form evaluates a COCO results file produced by any tool against COCO ground truth, with\n"
    "pycocotools' exact semantics (loadRes + COCOeval bbox): prints the 12 summary lines\n"
    "(AP, AP50, AP75, APs/m/l, AR1/10/100, ARs/m/l) and the AP of every category.\n"
    "Results for images that are not in the ground truth are an error; results for\n"
    "categories that are not in it are ignored and counted.\n\n"
    "Options:\n"
    "  --gt FILE       COCO instances JSON (images, categories, annotations)\n"
    "  --results FILE  COCO results JSON: [{\"image_id\", \"category_id\", \"bbox\": [x,y,w,h], \"score\"}]\n"
    "  --json          print the 12 numbers and per-category AP as a JSON object instead\n\n"
    "Examples:\n"
    "  workbench eval configs/retinanet/retinanet_r18_fpn_bccd.conf \\\n"
    "      work_dirs/retinanet_r18_fpn_bccd/latest.safetensors --out bccd_val.json  # + bccd_val.categories.json\n"
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
            return wb_cli_usage_error("eval", "unexpected argument '%s' (give EXP.conf CHECKPOINT first, or --gt "
                                              "and --results)", argv[i]);
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

static double per_second(int64_t images, double seconds) { return seconds > 0 ? (double)images / seconds : 0.0; }

static void print_timing(const wb_eval_result *r) {
    double total = r->infer_seconds + r->eval_seconds;
    printf("time: %lld images in %.2f s (%.2f images/s): inference %.2f s (%.2f images/s), evaluation %.2f s\n",
           (long long)r->images, total, per_second(r->images, total), r->infer_seconds,
           per_second(r->images, r->infer_seconds), r->eval_seconds);
}

/* A split the experiment does not have: name those it has. */
static int missing_split(wb_experiment *e, const char *split) {
    static const char *const splits[] = {"train", "val", "test"};
    char have[64] = "";
    for (int i = 0; i < 3; i++)
        if (wb_data_split_exists(e, splits[i]))
            snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s", have[0] ? ", " : "", splits[i]);
    return wb_cli_usage_error("eval", "the experiment has no data.%s (it has: %s); evaluate one of those with --split, "
                                      "or add a data.%s section (dataset and pipeline)", split, have, split);
}

/* eval EXP CKPT: the model over a split, then the experiment's metric. */
static int eval_experiment(const wb_cli *cli, int argc, char **argv) {
    const char *split = "val", *out = NULL;
    char *rest[256];
    int n_rest = 0;
    for (int i = 0; i < argc && n_rest < 256; i++) {
        if (strcmp(argv[i], "--split") == 0 && i + 1 < argc) split = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
        else rest[n_rest++] = argv[i];
    }
    wb_cli_experiment x;
    int rc = wb_cli_parse_experiment("eval", cli, n_rest, rest, false, &x);
    if (rc != WB_EXIT_OK) return rc;
    if (x.n_positional != 2) return wb_cli_usage_error("eval", "needs EXP.conf and a CHECKPOINT");
    wb_cli_trained t;
    if (wb_cli_check_checkpoint("eval", x.positional[1]) != WB_EXIT_OK) return WB_EXIT_FAILURE;
    if (wb_ranks_begin() != 0) return WB_EXIT_FAILURE; /* mpirun -np N: each rank its shard, rank 0 reports */
    rc = wb_cli_open_trained(cli, &x, x.positional[1], &t);
    if (rc == WB_EXIT_OK && !wb_data_split_exists(&t.e, split)) rc = missing_split(&t.e, split);
    if (rc == WB_EXIT_OK && wb_ranks_check_data(t.e.cfg) != 0) rc = WB_EXIT_USAGE;
    if (rc == WB_EXIT_OK) {
        char err[2048];
        wb_eval_result res;
        if (wb_evaluate_split(&t.e, t.s, t.m, split, out, stdout, &res, err, sizeof err) != WB_OK) {
            fprintf(stderr, "workbench eval: %s\n", err);
            rc = WB_EXIT_FAILURE;
        } else if (wb_dist_is_root()) {
            printf("\n%s: %.4f (%lld images, %lld detections)%s%s\n", res.metric_name, res.metric,
                   (long long)res.images, (long long)res.detections, out ? "; results in " : "", out ? out : "");
            print_timing(&res);
        }
    }
    wb_cli_close_trained(&t);
    return wb_ranks_end(rc);
}

int wb_cmd_eval(const wb_cli *cli, int argc, char **argv) {
    if (argc > 1 && argv[1][0] != '-') return eval_experiment(cli, argc, argv);
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
