/* workbench browse-dataset EXP [--split S] [--out DIR] [--not-show-pipeline] [--num N] */
#include <stdio.h>
#include <string.h>
#include "app/browse_dataset.h"
#include "experiment_args.h"

const char wb_help_browse_dataset[] =
    "Usage: workbench browse-dataset EXP.conf [--split train|val|test] [--out DIR] [--not-show-pipeline]\n"
    "                                [--num N] [--set key=value]...\n\n"
    "Pictures of a split's samples after its transform pipeline (mmdetection's browse_dataset), with their\n"
    "boxes and class names (crowd / difficult regions left out), to see what augmentation does: random steps\n"
    "draw as in the first epoch of training (seeded), mosaics and mixups included. One picture per sample,\n"
    "in dataset order, written as DIR/SPLIT_INDEX.jpg (INDEX: the sample's position in the dataset).\n\n"
    "Options:\n"
    "  --split S             data.S (default train)\n"
    "  --out DIR             where the pictures go (default browse_SPLIT)\n"
    "  --not-show-pipeline   the images and boxes as the dataset gives them, without any transform\n"
    "  --num N               at most N pictures (default 16)\n\n"
    "Exit 0 when the pictures are written, 1 when a sample or a picture fails, 2 on usage errors.\n\n"
    "Examples:\n"
    "  workbench browse-dataset configs/yolov5/yolov5_n_bccd.conf --num 8 --out /tmp/mosaics\n"
    "  workbench browse-dataset configs/quickstart.conf --split val --not-show-pipeline\n";

/* Takes the command's own options out of argv (in place), leaving the shared experiment options. */
static int take_own_options(int *argc, char **argv, wb_browse_opts *o, const char **num) {
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--not-show-pipeline") == 0) {
            o->show_pipeline = false;
            continue;
        }
        const char **slot = !strcmp(argv[i], "--split") ? &o->split : !strcmp(argv[i], "--out") ? &o->out_dir
                          : !strcmp(argv[i], "--num") ? num : NULL;
        if (!slot) {
            argv[kept++] = argv[i];
            continue;
        }
        if (i + 1 >= *argc) return wb_cli_usage_error("browse-dataset", "%s wants a value", argv[i]);
        *slot = argv[++i];
    }
    *argc = kept;
    return WB_EXIT_OK;
}

int wb_cmd_browse_dataset(const wb_cli *cli, int argc, char **argv) {
    wb_browse_opts o = {"train", NULL, true, 16};
    const char *num = NULL;
    int rc = take_own_options(&argc, argv, &o, &num);
    if (rc == WB_EXIT_OK && num) rc = wb_cli_count("browse-dataset", "--num", num, 1000000, &o.num);
    if (rc == WB_EXIT_OK && strcmp(o.split, "train") && strcmp(o.split, "val") && strcmp(o.split, "test"))
        rc = wb_cli_usage_error("browse-dataset", "--split %s: train, val or test", o.split);
    wb_cli_experiment x;
    if (rc == WB_EXIT_OK) rc = wb_cli_parse_experiment("browse-dataset", cli, argc, argv, false, &x);
    if (rc != WB_EXIT_OK) return rc;
    if (x.n_positional > 1)
        return wb_cli_usage_error("browse-dataset", "unexpected argument '%s'", x.positional[1]);
    char out_dir[256];
    snprintf(out_dir, sizeof out_dir, "browse_%s", o.split);
    if (!o.out_dir) o.out_dir = out_dir;
    x.args.data_only = true; /* pictures of the data need no model */
    wb_experiment e;
    if (wb_experiment_open(&e, &x.args, stderr) != 0) {
        wb_experiment_close(&e);
        return WB_EXIT_USAGE;
    }
    wb_session *s = wb_experiment_session(&e, cli->threads, stderr);
    char err[1024] = "";
    int written = s ? wb_browse_dataset(&e, s, &o, stdout, err, sizeof err) : -1;
    if (s) wb_session_destroy(s);
    wb_experiment_close(&e);
    if (written < 0) {
        if (err[0]) fprintf(stderr, "workbench browse-dataset: %s\n", err);
        return strncmp(err, "usage: ", 7) == 0 ? WB_EXIT_USAGE : WB_EXIT_FAILURE;
    }
    printf("%d picture%s of data.%s in %s/\n", written, written == 1 ? "" : "s", o.split, o.out_dir);
    return WB_EXIT_OK;
}
