#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/conformance.h"
#include "commands.h"

#define MAX_SETS 64

const char wb_help_gradcheck[] =
    "Usage: workbench gradcheck TYPE [--set key=value]... [--quick] [--inputs SPECS] [--target KIND]\n"
    "                           [--size N] [--points K]\n\n"
    "Runs the conformance kit on one backbone, neck, head or loss, from any plugin the search path finds\n"
    "(--plugin-dir, WB_PLUGIN_PATH, ...): builds it from its schema defaults (plus --set; a required\n"
    "integer such as num_classes defaults to 3), checks that forward returns the outputs it declared, and\n"
    "compares its backward with central finite differences on every parameter tensor and on its inputs\n"
    "(up to K elements of each: half where the backward is largest, half at random). A head's loss() is\n"
    "checked too, on random truth boxes: the gradient of its loss terms (its loss sub-modules included)\n"
    "with respect to its predictions. A loss is checked on random pred/target/weight with each reduction\n"
    "it offers (none, sum, mean). One PASS/FAIL line per tensor with its largest absolute and its relative\n"
    "error, then a summary line; exit 0 when everything agrees, 1 when something disagrees, 2 on usage\n"
    "or configuration errors. Runs on the reference kernels.\n\n"
    "Options:\n"
    "  --set key=value   a module parameter, read as `run --set` reads it (libconfig syntax: 3, 0.5, true,\n"
    "                    \"text\", [1, 2]; a bare word is text); keys of sub-modules: loss_cls.gamma=1.5\n"
    "  --quick           small and fast: integer widths (keys ending in channels, width, widths) at most 8,\n"
    "                    keys ending in _convs at most 1, `depth` at its smallest, 8-channel inputs and a\n"
    "                    32x32 image; what changed is printed, --set keys are left alone\n"
    "  --inputs SPECS    input feature specs for necks and heads: name:channels:stride[,...] (default\n"
    "                    c3:16:8,c4:24:16,c5:32:32 for necks; for heads one 16-channel level per entry of\n"
    "                    their `strides`, else p3:16:8)\n"
    "  --target KIND     targets for a loss: binary (0/1), soft (in [0, 1]), class (indices), real, box\n"
    "                    (x1,y1,x2,y2); default: by type for the in-tree losses, else soft\n"
    "  --size N          input image side in pixels (default 64, 32 with --quick)\n"
    "  --points K        finite-difference probes per tensor (default 8)\n\n"
    "A tensor that disagrees at a step of 1e-3 is tried at 1e-4 and 1e-5, where it passes only on well-determined\n"
    "differences. A FAIL on the biases of the deeper convs of a narrow ReLU tower with a small init (e.g. --quick\n"
    "--set stacked_convs=3 for retina_head) can still come from activations that shrink below what float32\n"
    "differences resolve: the same module at full width passes (retina_head, 4 convs, 256 channels: 1.5 min with\n"
    "--points 4), while a wrong backward fails at every width.\n\n"
    "Examples:\n"
    "  workbench gradcheck tiny_cnn --set \"widths=[8, 16]\"\n"
    "  workbench gradcheck retina_head --quick --set loss_bbox.type=giou --set reg_decoded_bbox=true\n"
    "  workbench gradcheck fpn --quick\n"
    "  workbench --plugin-dir build/my_losses gradcheck varifocal_loss --target soft\n";

int wb_cmd_gradcheck(const wb_cli *cli, int argc, char **argv) {
    wb_conformance_opts o = {.seed = 1};
    const char *sets[MAX_SETS];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--set") == 0 || strncmp(a, "--set=", 6) == 0) {
            const char *kv = a[5] == '=' ? a + 6 : (i++, v);
            if (!kv || !strchr(kv, '=')) return wb_cli_usage_error("gradcheck", "--set wants key=value");
            if (o.n_params == MAX_SETS) return wb_cli_usage_error("gradcheck", "at most %d --set options", MAX_SETS);
            sets[o.n_params++] = kv;
        } else if (strcmp(a, "--quick") == 0) {
            o.quick = true;
        } else if (strcmp(a, "--inputs") == 0 && v) {
            o.inputs = argv[++i];
        } else if (strcmp(a, "--target") == 0 && v) {
            o.target = argv[++i];
        } else if ((strcmp(a, "--size") == 0 || strcmp(a, "--points") == 0) && v) {
            int rc = wb_cli_count("gradcheck", a, argv[++i], strcmp(a, "--size") == 0 ? 4096 : 1000000,
                                  strcmp(a, "--size") == 0 ? &o.size : &o.points);
            if (rc != WB_EXIT_OK) return rc;
        } else if (a[0] != '-' && !o.type) {
            o.type = a;
        } else {
            return wb_cli_usage_error("gradcheck", "unexpected argument '%s'", a);
        }
    }
    if (!o.type) return wb_cli_usage_error("gradcheck", "missing the module TYPE");
    o.params = sets;
    wb_search_path sp;
    wb_search_path_init(&sp);
    wb_registry *reg = wb_registry_new();
    int rc = WB_EXIT_FAILURE;
    if (reg && wb_cli_load_plugins(cli, NULL, 0, &sp, reg)) rc = wb_conformance_run(reg, &o, stdout);
    wb_registry_free(reg);
    wb_search_path_free(&sp);
    return rc;
}
