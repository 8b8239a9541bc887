#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/bench_run.h"
#include "experiment_args.h"

const char wb_help_bench[] =
    "Usage: workbench bench EXP.conf [--iters N] [--batch B] [--size S] [--inference] [--set key=value]...\n\n"
    "Times training iterations of the experiment's model on random images: forward and backward of every\n"
    "module, the loss and the optimizer step, with each one's share of the iteration, and peak memory.\n"
    "The first iteration (primitive creation, arena growth) is run but not timed.\n\n"
    "Options:\n"
    "  --iters N   timed iterations (default 5)\n"
    "  --batch B   images per iteration (default 2)\n"
    "  --size S    square input side in pixels (default 512)\n"
    "  --inference time forward + detection decoding (no tape) instead of training iterations\n\n"
    "Example:\n"
    "  workbench --threads 2 bench configs/retinanet/retinanet_r50_fpn_1x_coco.conf --size 512 --batch 2\n";

int wb_cmd_bench(const wb_cli *cli, int argc, char **argv) {
    wb_bench_opts o = {.iters = 5, .batch = 2, .size = 512, .threads = cli->threads};
    char *rest[256];
    int n_rest = 0;
    for (int i = 0; i < argc && n_rest < 256; i++) {
        int *dst = !strcmp(argv[i], "--iters") ? &o.iters : !strcmp(argv[i], "--batch") ? &o.batch
                 : !strcmp(argv[i], "--size") ? &o.size : NULL;
        /* The limits of data.batch_size and of the largest resize a pipeline takes. */
        int max = dst == &o.iters ? 100000 : dst == &o.batch ? 4096 : 8192;
        if (strcmp(argv[i], "--inference") == 0) {
            o.inference = 1;
        } else if (dst && i + 1 < argc) {
            int rc = wb_cli_count("bench", argv[i], argv[i + 1], max, dst);
            if (rc != WB_EXIT_OK) return rc;
            i++;
        } else {
            rest[n_rest++] = argv[i];
        }
    }
    wb_cli_experiment x;
    int rc = wb_cli_parse_experiment("bench", cli, n_rest, rest, false, &x);
    if (rc != WB_EXIT_OK) return rc;
    wb_experiment e;
    rc = wb_experiment_open(&e, &x.args, stderr) != 0 ? WB_EXIT_USAGE : wb_bench_run(&e, &o, stdout);
    wb_experiment_close(&e);
    return rc;
}
