/* workbench dataset-stats EXP [--split S] [--out DIR] */
#include <stdio.h>
#include <string.h>
#include "app/dataset_stats.h"
#include "experiment_args.h"

const char wb_help_dataset_stats[] =
    "Usage: workbench dataset-stats EXP.conf [--split train|val|test] [--out DIR] [--set key=value]...\n\n"
    "What a split's annotations hold, read through its dataset plugin before any transform: images and those\n"
    "without objects, boxes per class, box widths and heights in pixels (min, quartiles, max, mean), COCO's\n"
    "area ranges (small < 32^2, medium < 96^2, large), aspect ratios (w/h) and crowd / difficult boxes; and\n"
    "DIR/labels.jpg, YOLOv5's label picture (instances per class, box outlines, centre and size histograms),\n"
    "the one `workbench run` draws. EXP.conf may hold only a data section.\n\n"
    "Options:\n"
    "  --split S   data.S (default train)\n"
    "  --out DIR   where labels.jpg goes (default dataset_stats_SPLIT)\n\n"
    "Exit 0 when done, 1 when the dataset cannot be read or the picture written, 2 on usage errors.\n\n"
    "Example:\n"
    "  workbench dataset-stats configs/yolov5/yolov5_n_bccd.conf --split val\n";

int wb_cmd_dataset_stats(const wb_cli *cli, int argc, char **argv) {
    const char *split = "train", *out_dir = NULL;
    char *rest[256];
    int n_rest = 0;
    for (int i = 0; i < argc && n_rest < 256; i++) {
        const char **slot = !strcmp(argv[i], "--split") ? &split : !strcmp(argv[i], "--out") ? &out_dir : NULL;
        if (!slot) {
            rest[n_rest++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) return wb_cli_usage_error("dataset-stats", "%s wants a value", argv[i]);
        *slot = argv[++i];
    }
    if (strcmp(split, "train") && strcmp(split, "val") && strcmp(split, "test"))
        return wb_cli_usage_error("dataset-stats", "--split %s: train, val or test", split);
    wb_cli_experiment x;
    int rc = wb_cli_parse_experiment("dataset-stats", cli, n_rest, rest, false, &x);
    if (rc != WB_EXIT_OK) return rc;
    if (x.n_positional > 1) return wb_cli_usage_error("dataset-stats", "unexpected argument '%s'", x.positional[1]);
    char dir[256];
    snprintf(dir, sizeof dir, "dataset_stats_%s", split);
    x.args.data_only = true;
    wb_experiment e;
    if (wb_experiment_open(&e, &x.args, stderr) != 0) {
        wb_experiment_close(&e);
        return WB_EXIT_USAGE;
    }
    wb_session *s = wb_experiment_session(&e, cli->threads, stderr);
    char err[1024] = "";
    int done = s ? wb_dataset_stats(&e, s, split, out_dir ? out_dir : dir, stdout, err, sizeof err) : -1;
    if (s) wb_session_destroy(s);
    wb_experiment_close(&e);
    if (done < 0 && err[0]) fprintf(stderr, "workbench dataset-stats: %s\n", err);
    return done == 0 ? WB_EXIT_OK : strncmp(err, "usage: ", 7) == 0 ? WB_EXIT_USAGE : WB_EXIT_FAILURE;
}
