#include "build_info.h"

/* Both strings come from core/CMakeLists.txt compile definitions. */
const char *wb_build_version(void) { return WB_VERSION; }
const char *wb_build_plugin_install_dir(void) { return WB_PLUGIN_INSTALL_DIR; }
