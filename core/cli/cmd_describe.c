/* workbench describe [--kind KIND] TYPE */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "schema_text.h"

const char wb_help_describe[] =
    "Usage: workbench describe [--kind KIND] TYPE\n\n"
    "Shows a module type's summary, the plugin file that provides it and its\n"
    "parameter table (name, type, default, allowed values, description): what\n"
    "an experiment may write in a `{ type = \"TYPE\"; ... }` section.\n\n"
    "Options:\n"
    "  --kind KIND  only modules of KIND: backbone, neck, head, loss, dataset or\n"
    "               transform\n"
    "               (needed only when several kinds share the type name)\n\n"
    "Examples:\n"
    "  workbench describe focal_loss\n"
    "  workbench describe --kind head retina_head\n";

static void describe_entry(const wb_registry *reg, const wb_module_entry *e) {
    const wb_module_desc *d = e->desc;
    const wb_plugin_record *r = wb_registry_plugin(reg, e->plugin);
    printf("%s '%s': %s\n", wb_registry_kind_name(d->kind), d->type_name, d->summary);
    printf("  plugin: %s %s (%s), %s\n", r->manifest->name, r->manifest->version ? r->manifest->version : "?",
           r->manifest->license ? r->manifest->license : "no license given", r->path);
    if (d->caps & WB_CAP_CUSTOM_BACKWARD) printf("  backward: hand-written\n");
    if (d->caps & WB_CAP_THREAD_SAFE_GET) printf("  get(): safe on several threads\n");
    printf("Parameters:\n");
    wb_cli_print_schema(stdout, d->params, "  ");
}

/* "  backbone: a, b" lines of every known type, for an unknown-type message. */
static void print_known_types(const wb_registry *reg) {
    for (int kind = WB_KIND_BACKBONE; kind <= WB_KIND_TRANSFORM; kind++) {
        const char *names[256];
        int n = wb_registry_list(reg, (wb_module_kind)kind, names, 256);
        fprintf(stderr, "  %-9s", wb_registry_kind_name(kind));
        for (int i = 0; i < n && i < 256; i++) fprintf(stderr, "%s%s", i ? ", " : " ", names[i]);
        fprintf(stderr, "%s\n", n ? "" : " (none)");
    }
}

static int describe(const wb_registry *reg, int only_kind, const char *type) {
    int found = 0, ambiguous = 0;
    for (int kind = WB_KIND_BACKBONE; kind <= WB_KIND_TRANSFORM; kind++) {
        if (only_kind && kind != only_kind) continue;
        const wb_module_entry *e = NULL;
        char msg[2048];
        wb_lookup_result res = wb_registry_lookup(reg, (wb_module_kind)kind, type, &e, msg, sizeof(msg));
        if (res == WB_LOOKUP_FOUND) {
            if (found++) printf("\n");
            describe_entry(reg, e);
        } else if (res == WB_LOOKUP_AMBIGUOUS) {
            fprintf(stderr, "workbench describe: %s\n", msg);
            ambiguous++;
        }
    }
    if (ambiguous) return WB_EXIT_USAGE;
    if (found) return WB_EXIT_OK;
    fprintf(stderr, "workbench describe: no %s type '%s' is loaded. Known types:\n",
            only_kind ? wb_registry_kind_name(only_kind) : "module", type);
    print_known_types(reg);
    fprintf(stderr, "(`workbench plugins` shows where plugins are searched and why any were rejected)\n");
    return WB_EXIT_USAGE;
}

int wb_cmd_describe(const wb_cli *cli, int argc, char **argv) {
    const char *type = NULL;
    int kind = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--kind") == 0) {
            if (i + 1 >= argc) return wb_cli_usage_error("describe", "--kind needs a value");
            kind = wb_registry_kind_from_name(argv[++i]);
            if (!kind)
                return wb_cli_usage_error("describe", "unknown kind '%s' (backbone, neck, head, loss, dataset, transform)",
                                          argv[i]);
        } else if (argv[i][0] == '-') {
            return wb_cli_usage_error("describe", "unknown option '%s'", argv[i]);
        } else if (type) {
            return wb_cli_usage_error("describe", "expected one TYPE, got '%s' and '%s'", type, argv[i]);
        } else {
            type = argv[i];
        }
    }
    if (!type) return wb_cli_usage_error("describe", "missing the module TYPE to describe");

    wb_search_path sp;
    wb_search_path_init(&sp);
    wb_registry *reg = wb_registry_new();
    int rc = reg && wb_cli_load_plugins(cli, NULL, 0, &sp, reg) ? describe(reg, kind, type) : WB_EXIT_FAILURE;
    wb_registry_free(reg);
    wb_search_path_free(&sp);
    return rc;
}
