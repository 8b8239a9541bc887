/* workbench SDK: the plugin entry point, manifest and module descriptors. */
#ifndef WORKBENCH_PLUGIN_H
#define WORKBENCH_PLUGIN_H

#include "dataset.h"
#include "transform.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Static description of one module type: data, not code. It and everything
 * it points to must live as long as the process (plugins are never unloaded):
 * make them `static const`. The loader checks every descriptor when the
 * plugin loads, defaults included, and REJECTS the whole plugin, with the
 * reason, when one is wrong. */
typedef struct wb_module_desc {
    uint32_t struct_size;
    wb_module_kind kind;
    const char *type_name;              /* what configs write in `type = "..."`: a C identifier,
                                         * unique per kind among the loaded plugins */
    const char *summary;                /* one line, not NULL */
    uint32_t caps;                      /* WB_CAP_* */
    const wb_param_schema *params;      /* ends with WB_PARAM_END; NULL: no parameters */
    const wb_module_vtable *module;     /* backbones, necks, heads, losses */
    const wb_dataset_vtable *dataset;   /* datasets */
    const wb_transform_vtable *transform; /* transforms (ABI 1.3) */
} wb_module_desc;

typedef struct wb_plugin_manifest {
    uint32_t struct_size;
    uint32_t abi_major, abi_minor;      /* what the plugin was built against */
    uint32_t min_host_minor;            /* oldest host minor it can run on */
    const char *name;
    const char *version;
    const char *license;
    const wb_module_desc *const *modules;
    int num_modules;
} wb_plugin_manifest;

/* The one exported symbol, called once when the file loads. To refuse to load, it calls
 * host->set_error(NULL, status, "why", ...) (NULL: no context exists yet) and
 * returns NULL; the loader reports that message. */
#define WB_ENTRY_SYMBOL_(major) wb_plugin_entry_v##major
#define WB_ENTRY_SYMBOL_X(major) WB_ENTRY_SYMBOL_(major)
#define WB_ENTRY_SYMBOL WB_ENTRY_SYMBOL_X(WB_ABI_MAJOR)
#define WB_ENTRY_NAME "wb_plugin_entry_v1"

typedef const wb_plugin_manifest *(*wb_plugin_entry_fn)(const wb_host_api *host);

#if defined(__GNUC__)
#define WB_EXPORT __attribute__((visibility("default")))
#else
#define WB_EXPORT
#endif

/* Writes the entry point of a plugin carrying the given module descriptors:
 *   WB_PLUGIN_DEFINE("my_plugin", "1.0.0", "MIT", &my_backbone_desc, &my_loss_desc)
 * Plugins built with this macro need no newer host minor than they were built for. */
#define WB_PLUGIN_DEFINE(name_, version_, license_, ...)                              \
    static const wb_module_desc *const wb_plugin_modules_[] = { __VA_ARGS__ };        \
    static const wb_plugin_manifest wb_plugin_manifest_ = {                           \
        sizeof(wb_plugin_manifest), WB_ABI_MAJOR, WB_ABI_MINOR, WB_ABI_MINOR,         \
        name_, version_, license_, wb_plugin_modules_,                                \
        (int)(sizeof(wb_plugin_modules_) / sizeof(wb_plugin_modules_[0])) };          \
    WB_EXPORT const wb_plugin_manifest *WB_ENTRY_SYMBOL(const wb_host_api *host) {    \
        (void)host;                                                                   \
        return &wb_plugin_manifest_;                                                  \
    }

#ifdef __cplusplus
}
#endif
#endif
