/* workbench plugins [--json] [-v] */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "schema_text.h"

const char wb_help_plugins[] =
    "Usage: workbench plugins [--json] [-v]\n\n"
    "Lists the plugin search path in order, every candidate file found there as\n"
    "ACCEPTED or REJECTED (with the reason), every module type the accepted files\n"
    "provide, and type names defined by more than one file.\n\n"
    "Search order: --plugin-dir DIRs, $WB_PLUGIN_PATH (colon-separated), the\n"
    "installed plugin directory next to the executable. Never the current\n"
    "directory: a plugin is code, and loading it runs it.\n\n"
    "Options:\n"
    "  -v, --verbose  also print each module's parameter schema\n"
    "  --json         machine-readable output on stdout (always includes schemas)\n\n"
    "Examples:\n"
    "  workbench plugins\n"
    "  workbench --plugin-dir ./build/my_plugin plugins -v\n"
    "  workbench plugins --json | jq '.modules[].type'\n";

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void print_text(const wb_search_path *sp, const wb_registry *reg, bool verbose) {
    printf("Plugin search path (host ABI %d.%d):\n", WB_ABI_MAJOR, WB_ABI_MINOR);
    for (int i = 0; i < sp->n; i++)
        printf("  %d. %s  [%s]%s\n", i + 1, sp->dirs[i].path, sp->dirs[i].source,
               sp->dirs[i].exists ? "" : " (not found)");

    printf("\nPlugin files:\n");
    if (wb_registry_num_plugins(reg) == 0) printf("  (none found)\n");
    for (int i = 0; i < wb_registry_num_plugins(reg); i++) {
        const wb_plugin_record *r = wb_registry_plugin(reg, i);
        if (r->accepted)
            printf("  ACCEPTED  %s  (%s %s, %s, %d module%s)\n", r->path, r->manifest->name,
                   r->manifest->version ? r->manifest->version : "?",
                   r->manifest->license ? r->manifest->license : "no license given", r->manifest->num_modules,
                   r->manifest->num_modules == 1 ? "" : "s");
        else
            printf("  REJECTED  %s: %s\n", r->path, r->reason);
    }

    printf("\nModules:\n");
    if (wb_registry_num_modules(reg) == 0) printf("  (none)\n");
    for (int i = 0; i < wb_registry_num_modules(reg); i++) {
        const wb_module_entry *e = wb_registry_module(reg, i);
        printf("  %-9s %-22s %s  [%s]\n", wb_registry_kind_name(e->desc->kind), e->desc->type_name,
               e->desc->summary, base_name(wb_registry_plugin(reg, e->plugin)->path));
        if (verbose) {
            wb_cli_print_schema(stdout, e->desc->params, "      ");
            printf("\n");
        }
    }

    if (wb_registry_num_conflicts(reg) > 0) {
        printf("\nConflicts:\n");
        for (int i = 0; i < wb_registry_num_conflicts(reg); i++) printf("  %s\n", wb_registry_conflict(reg, i));
    }
}

static cJSON *plugin_json(const wb_plugin_record *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", r->path);
    cJSON_AddStringToObject(o, "source", r->source);
    cJSON_AddStringToObject(o, "status", r->accepted ? "accepted" : "rejected");
    if (!r->accepted) {
        cJSON_AddStringToObject(o, "reason", r->reason);
        return o;
    }
    cJSON_AddStringToObject(o, "name", r->manifest->name);
    if (r->manifest->version) cJSON_AddStringToObject(o, "version", r->manifest->version);
    if (r->manifest->license) cJSON_AddStringToObject(o, "license", r->manifest->license);
    return o;
}

static cJSON *module_json(const wb_registry *reg, const wb_module_entry *e) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", wb_registry_kind_name(e->desc->kind));
    cJSON_AddStringToObject(o, "type", e->desc->type_name);
    cJSON_AddStringToObject(o, "summary", e->desc->summary);
    cJSON_AddStringToObject(o, "plugin", wb_registry_plugin(reg, e->plugin)->path);
    cJSON_AddItemToObject(o, "params", wb_cli_schema_json(e->desc->params));
    return o;
}

static bool print_json(const wb_search_path *sp, const wb_registry *reg) {
    cJSON *root = cJSON_CreateObject();
    char abi[32];
    snprintf(abi, sizeof(abi), "%d.%d", WB_ABI_MAJOR, WB_ABI_MINOR);
    cJSON_AddStringToObject(root, "abi", abi);
    cJSON *dirs = cJSON_AddArrayToObject(root, "search_path");
    for (int i = 0; i < sp->n; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "dir", sp->dirs[i].path);
        cJSON_AddStringToObject(d, "source", sp->dirs[i].source);
        cJSON_AddBoolToObject(d, "exists", sp->dirs[i].exists);
        cJSON_AddItemToArray(dirs, d);
    }
    cJSON *plugins = cJSON_AddArrayToObject(root, "plugins");
    for (int i = 0; i < wb_registry_num_plugins(reg); i++)
        cJSON_AddItemToArray(plugins, plugin_json(wb_registry_plugin(reg, i)));
    cJSON *modules = cJSON_AddArrayToObject(root, "modules");
    for (int i = 0; i < wb_registry_num_modules(reg); i++)
        cJSON_AddItemToArray(modules, module_json(reg, wb_registry_module(reg, i)));
    cJSON *conflicts = cJSON_AddArrayToObject(root, "conflicts");
    for (int i = 0; i < wb_registry_num_conflicts(reg); i++)
        cJSON_AddItemToArray(conflicts, cJSON_CreateString(wb_registry_conflict(reg, i)));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return false;
    puts(text);
    cJSON_free(text);
    return true;
}

int wb_cmd_plugins(const wb_cli *cli, int argc, char **argv) {
    bool json = false, verbose = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
            verbose = true;
        else
            return wb_cli_usage_error("plugins", "unexpected argument '%s'", argv[i]);
    }
    wb_search_path sp;
    wb_search_path_init(&sp);
    wb_registry *reg = wb_registry_new();
    int rc = WB_EXIT_FAILURE;
    if (reg && wb_cli_load_plugins(cli, NULL, 0, &sp, reg)) {
        if (json)
            rc = print_json(&sp, reg) ? WB_EXIT_OK : WB_EXIT_FAILURE;
        else {
            print_text(&sp, reg, verbose);
            rc = WB_EXIT_OK;
        }
    }
    if (rc != WB_EXIT_OK) fprintf(stderr, "workbench plugins: out of memory\n");
    wb_registry_free(reg);
    wb_search_path_free(&sp);
    return rc;
}
