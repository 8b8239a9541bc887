#include "module_origin.h"

#include <string.h>

const char *wb_module_origin(const wb_registry *reg, const wb_module_desc *d) {
    for (int i = 0; i < wb_registry_num_modules(reg); i++) {
        const wb_module_entry *e = wb_registry_module(reg, i);
        if (e->desc != d) continue;
        const char *path = wb_registry_plugin(reg, e->plugin)->path;
        return strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    }
    return "?";
}
