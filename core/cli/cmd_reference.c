#include <stdio.h>
#include <string.h>
#include "app/experiment.h"
#include "commands.h"

const char wb_help_reference[] =
    "Usage: workbench reference [--out FILE]\n\n"
    "Writes the configuration reference as Markdown: the experiment's core sections, every transform and every\n"
    "module of every plugin found on the search path, each parameter with its type, default, range or choices\n"
    "and documentation. docs/config-reference.md is this command's output for the in-tree plugins.\n\n"
    "Example:\n"
    "  workbench reference --out docs/config-reference.md\n";

int wb_cmd_reference(const wb_cli *cli, int argc, char **argv) {
    const char *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out_path = argv[++i];
        else return wb_cli_usage_error("reference", "unexpected argument '%s'", argv[i]);
    }
    wb_search_path sp;
    wb_search_path_init(&sp);
    wb_registry *reg = wb_registry_new();
    int rc = WB_EXIT_FAILURE;
    if (reg && wb_cli_load_plugins(cli, NULL, 0, &sp, reg)) {
        enum { MAX_MODULES = 512 };
        const wb_module_desc *mods[MAX_MODULES];
        int n = 0;
        for (int i = 0; i < wb_registry_num_modules(reg) && n < MAX_MODULES; i++)
            mods[n++] = wb_registry_module(reg, i)->desc;
        FILE *out = out_path ? fopen(out_path, "w") : stdout;
        wb_module_lookup lookup = wb_registry_module_lookup(reg);
        if (!out) {
            perror(out_path);
        } else {
            rc = wb_config_write_reference(out, mods, n, &lookup) == 0 ? WB_EXIT_OK : WB_EXIT_FAILURE;
            if (out != stdout && fclose(out) != 0) rc = WB_EXIT_FAILURE;
        }
    }
    wb_registry_free(reg);
    wb_search_path_free(&sp);
    return rc;
}
