/* The files `workbench new-plugin` writes (the .in files of core/cli/new_plugin/): one
 * source per module kind and the build, README and test files every skeleton
 * shares. Every `@NAME@` is replaced by the plugin's name, `@KIND@` by its
 * kind, `@GRADCHECK@` by the gradcheck line of its test script. */
#ifndef WB_CLI_NEW_PLUGIN_TEMPLATES_H
#define WB_CLI_NEW_PLUGIN_TEMPLATES_H

/* The module source of a kind ("backbone", ...); NULL for an unknown kind. */
const char *wb_template_source(const char *kind);
/* The test script's check of the module beyond `describe` (gradcheck), per kind. */
const char *wb_template_gradcheck(const char *kind);

extern const char wb_template_cmake[];
extern const char wb_template_readme[];
extern const char wb_template_test[];

#endif
