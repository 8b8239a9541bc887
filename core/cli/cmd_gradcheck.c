#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/conformance.h"
#include "commands.h"

const char wb_help_gradcheck[] =
    "Usage: workbench gradcheck TYPE [--set key=value]... [--inputs SPECS] [--size N] [--points K]\n\n"
    "Runs the conformance kit on one backbone, neck or head: builds it from its schema defaults (plus --set),\n"
    "checks that forward returns the outputs it declared, and compares its backward with central finite\n"
    "differences on up to a dozen parameters and on its inputs. Exit 0 when everything agrees.\n\n"
    "Options:\n"
    "  --set key=value   a module parameter (libconfig syntax: 3, 0.5, true, \"text\", [1, 2])\n"
    "  --inputs SPECS    input feature specs for necks and heads: name:channels:stride[,...]\n"
    "                    (default c3:16:8,c4:24:16,c5:32:32 for necks, p3:16:8 for heads)\n"
    "  --size N          input image side in pixels (default 64)\n"
    "  --points K        finite-difference probes per tensor (default 8)\n\n"
    "Examples:\n"
    "  workbench gradcheck tiny_cnn --set \"widths=[8, 16]\"\n"
    "  workbench gradcheck center_head --set num_classes=3 --inputs c3:16:8\n";

int wb_cmd_gradcheck(const wb_cli *cli, int argc, char **argv) {
    wb_conformance_opts o = {.seed = 1};
    const char *sets[64];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--set") == 0 && v && strchr(v, '=') && o.n_params < 64) sets[o.n_params++] = argv[++i];
        else if (strcmp(a, "--inputs") == 0 && v) o.inputs = argv[++i];
        else if ((strcmp(a, "--size") == 0 || strcmp(a, "--points") == 0) && v) {
            int rc = wb_cli_count("gradcheck", a, argv[++i], strcmp(a, "--size") == 0 ? 4096 : 1000000,
                                  strcmp(a, "--size") == 0 ? &o.size : &o.points);
            if (rc != WB_EXIT_OK) return rc;
        }
        else if (a[0] != '-' && !o.type) o.type = a;
        else return wb_cli_usage_error("gradcheck", "unexpected argument '%s'", a);
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
