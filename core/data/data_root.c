#include "data_root.h"

#include <libconfig.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const split_names[] = {"train", "val", "test"};

static bool declares_data_root(const wb_module_lookup *lookup, const char *type) {
    const wb_module_desc *d = lookup->find(lookup->user, WB_KIND_DATASET, type);
    for (const wb_param_schema *p = d ? d->params : NULL; p && p->name; p++)
        if (strcmp(p->name, "data_root") == 0) return true;
    return false;
}

void wb_data_root_fill(wb_config *cfg, const wb_module_lookup *lookup) {
    config_t *tree = wb_config_tree(cfg);
    const char *root = NULL;
    if (!config_lookup_string(tree, "data.data_root", &root) || !root || !*root) return;
    for (size_t i = 0; i < sizeof split_names / sizeof split_names[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "data.%s.dataset", split_names[i]);
        config_setting_t *ds = config_lookup(tree, path);
        const char *type = NULL, *own = NULL;
        if (!ds || !config_setting_is_group(ds)) continue;
        /* validation writes schema defaults in: an empty one is not the section's own */
        if (config_setting_lookup_string(ds, "data_root", &own) && own && *own) continue;
        if (lookup && (!config_setting_lookup_string(ds, "type", &type) || !declares_data_root(lookup, type)))
            continue;
        config_setting_t *s = config_setting_get_member(ds, "data_root");
        if (!s) s = config_setting_add(ds, "data_root", CONFIG_TYPE_STRING);
        if (s) config_setting_set_string(s, root);
    }
}
