/* Which plugin file a module type came from, for summaries ("focal_loss
 * [basic_losses.so]"). */
#ifndef WB_CORE_MODULE_ORIGIN_H
#define WB_CORE_MODULE_ORIGIN_H

#include "../plugin/registry.h"

/* The base name of the file of the accepted plugin that provides d (its
 * origin for a linked-in manifest), or "?" when no plugin of reg does. */
const char *wb_module_origin(const wb_registry *reg, const wb_module_desc *d);

#endif
