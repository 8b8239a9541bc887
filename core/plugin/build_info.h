/* What this build of the host is, for `workbench version` and the loader. */
#ifndef WB_CORE_BUILD_INFO_H
#define WB_CORE_BUILD_INFO_H

const char *wb_build_version(void);
/* Where `cmake --install` puts plugins (absolute, fixed at configure time). */
const char *wb_build_plugin_install_dir(void);

#endif
