/* data.data_root: one key that redirects every split's dataset. Dataset
 * plugins that take a `data_root` parameter resolve their relative paths
 * against it; this fills it in from data.data_root where a split's dataset
 * section does not set its own. */
#ifndef WB_CORE_DATA_DATA_ROOT_H
#define WB_CORE_DATA_DATA_ROOT_H

#include "../config/config.h"

/* Run after validation (the key is not part of a section the user wrote).
 * With a lookup, only datasets whose schema declares `data_root` get it;
 * without one (configs read without plugins, as the doctor may), all do.
 * Nothing happens when data.data_root is empty or absent. */
void wb_data_root_fill(wb_config *cfg, const wb_module_lookup *lookup);

#endif
