/* Generic operations on libconfig trees used by loading, overriding and
 * validation: copy, merge, parse one value, name a setting, describe a type. */
#ifndef WB_CORE_CONFIG_TREE_H
#define WB_CORE_CONFIG_TREE_H

#include <stddef.h>
#include <libconfig.h>

/* Deep copy of src as a new child `name` of parent (name NULL in lists and
 * arrays). Source file and line are kept. NULL when libconfig refuses. */
config_setting_t *wb_tree_copy(config_setting_t *parent, const char *name, const config_setting_t *src);

/* Merges the members of group src into group dst: groups merge recursively,
 * everything else replaces. A group whose `type` differs from dst's replaces
 * it (the keys of another module type would not apply). */
int wb_tree_merge(config_setting_t *dst, const config_setting_t *src);

/* Sets the source file of s and everything under it; line != 0 also sets the line. */
void wb_tree_set_origin(config_setting_t *s, const char *file, unsigned line);

/* Parses one libconfig value ("0.5", "[1, 2]", "{ type = \"x\"; }") into tmp
 * (initialised here; the caller destroys it). Returns the value's setting,
 * or NULL with libconfig's message in err. */
config_setting_t *wb_tree_parse_value(config_t *tmp, const char *text, char *err, size_t err_size);

/* Dotted path of s: "model.head.loss_cls", "data.train.pipeline[1].scale". */
void wb_tree_path(const config_setting_t *s, char *buf, size_t size);

/* "an int", "a float", "a bool", "a string", "a group", "a list", "an array". */
const char *wb_tree_type_name(const config_setting_t *s);

/* libconfig's rule for setting names: a letter or '*', then letters, digits, '-', '_', '*'. */
int wb_tree_valid_name(const char *name);

#endif
