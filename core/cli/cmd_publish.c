/* workbench publish CHECKPOINT OUT [--fp16] [--raw-weights] */
#include <stdio.h>
#include <string.h>
#include "app/publish.h"
#include "commands.h"

const char wb_help_publish[] =
    "Usage: workbench publish CHECKPOINT OUT [--fp16] [--raw-weights]\n\n"
    "Makes a checkpoint into a file to hand out (mmdetection's publish_model, YOLOv5's strip_optimizer):\n"
    "  - the optimizer state and the trainer state (iteration, epoch, best score) are left out, so the file\n"
    "    is a fraction of the size; `run --resume` refuses it, `load_from`, `eval` and `infer` take it;\n"
    "  - when the checkpoint holds EMA averages (ema.enable), they are the published weights: they are what\n"
    "    validation measured during training (--raw-weights keeps the raw ones);\n"
    "  - --fp16 stores the weights as IEEE float16 (round to nearest even; a weight beyond 65504 is refused),\n"
    "    half the size again; workbench widens them to float32 exactly when it loads them;\n"
    "  - the class names and test-time settings stay, so `infer` labels pictures without the dataset.\n"
    "The file is OUT-HASH.safetensors (a .safetensors ending of OUT is taken off first), HASH being the first\n"
    "8 hex digits of the file's SHA-256, which is printed in full.\n\n"
    "Example:\n"
    "  workbench publish work_dirs/retinanet_r18_fpn_bccd/best_bbox_mAP_epoch_24.safetensors \\\n"
    "      retinanet_r18_bccd --fp16      # -> retinanet_r18_bccd-1a2b3c4d.safetensors\n";

int wb_cmd_publish(const wb_cli *cli, int argc, char **argv) {
    (void)cli;
    wb_publish_opts o = {0};
    const char *positional[2];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fp16") == 0) o.fp16 = true;
        else if (strcmp(argv[i], "--raw-weights") == 0) o.raw_weights = true;
        else if (argv[i][0] == '-' && argv[i][1]) return wb_cli_usage_error("publish", "unknown option '%s'", argv[i]);
        else if (n < 2) positional[n++] = argv[i];
        else return wb_cli_usage_error("publish", "unexpected argument '%s'", argv[i]);
    }
    if (n < 2) return wb_cli_usage_error("publish", "name the checkpoint and the output (CHECKPOINT OUT)");
    o.checkpoint = positional[0];
    o.out = positional[1];
    return wb_publish(&o, stdout);
}
