#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/bench_run.h"
#include "experiment_args.h"

const char wb_help_bench[] =
    "Usage: workbench bench EXP.conf [--iters N] [--batch B] [--size S|WxH] [--inference] [--set key=value]...\n\n"
    "Times training iterations of the experiment's model on random images: forward and backward of every\n"
    "module, the loss and the optimizer step, with each one's share of the iteration, and peak memory.\n"
    "The first iteration (primitive creation, arena growth) is run but not timed.\n\n"
    "Options:\n"
    "  --iters N   timed iterations (default 5)\n"
    "  --batch B   images per iteration (default 2)\n"
    "  --size S    input size in pixels: S for S x S, or WIDTHxHEIGHT such as 640x480 (default 512)\n"
    "  --inference time forward + detection decoding (no tape) instead of training iterations\n\n"
    "Example:\n"
    "  workbench --threads 2 bench configs/retinanet/retinanet_r50_fpn_1x_coco.conf --size 512 --batch 2\n"
    "  workbench bench configs/retinanet/retinanet_r18_fpn_bccd.conf --size 640x480 --inference\n";

/* "S" (square) or "WxH", each side from 1 to the largest resize a pipeline takes. */
static int parse_size(const char *text, int *w, int *h) {
    char *end = NULL;
    errno = 0;
    long a = isdigit((unsigned char)text[0]) ? strtol(text, &end, 10) : 0, b = a;
    if (end && *end == 'x' && isdigit((unsigned char)end[1])) b = strtol(end + 1, &end, 10);
    if (!end || *end || errno || a < 1 || b < 1 || a > 8192 || b > 8192)
        return wb_cli_usage_error("bench", "--size wants S or WIDTHxHEIGHT (e.g. 512 or 640x480), each from 1 to "
                                           "8192, got '%s'", text);
    *w = (int)a, *h = (int)b;
    return WB_EXIT_OK;
}

int wb_cmd_bench(const wb_cli *cli, int argc, char **argv) {
    wb_bench_opts o = {.iters = 5, .batch = 2, .width = 512, .height = 512, .threads = cli->threads};
    char *rest[256];
    int n_rest = 0;
    for (int i = 0; i < argc && n_rest < 256; i++) {
        int *dst = !strcmp(argv[i], "--iters") ? &o.iters : !strcmp(argv[i], "--batch") ? &o.batch : NULL;
        /* The limit of data.batch_size. */
        int max = dst == &o.iters ? 100000 : 4096;
        if (strcmp(argv[i], "--inference") == 0) {
            o.inference = 1;
        } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            int rc = parse_size(argv[++i], &o.width, &o.height);
            if (rc != WB_EXIT_OK) return rc;
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
