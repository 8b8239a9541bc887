/* Pipeline steps served by transform plugins (WB_KIND_TRANSFORM,
 * workbench/transform.h): the adapter between the core's wb_data_sample and
 * the SDK's wb_transform_sample, with the plugin's instance as the step's
 * config. */
#include <libconfig.h>
#include <stdio.h>
#include <string.h>
#include "../config/config_tree.h"
#include "../config/params.h"
#include "../plugin/plugin_guard.h"
#include "../runtime/context.h"
#include "transforms_types.h"

typedef struct plugin_step {
    const wb_module_desc *desc;
    void *instance;
} plugin_step;

/* The step's parameters with every schema key present: the given value or
 * the default, so the plugin reads any key without checks even when the
 * pipeline was built from partial parameters (tests, close_mosaic). */
static wb_status defaulted_params(config_t *tree, const wb_param_schema *schema, const wb_params *given,
                                  char *err, size_t n) {
    config_init(tree);
    config_setting_t *root = config_root_setting(tree);
    for (const wb_param_schema *e = schema; e && e->name; e++) {
        config_setting_t *from = given && wb_params_has(given, e->name)
                                     ? config_setting_get_member(given->group, e->name) : NULL;
        if (from) {
            if (!wb_tree_copy(root, e->name, from)) goto nomem;
            continue;
        }
        if (!e->default_value) {
            snprintf(err, n, "missing required parameter '%s' (%s)", e->name, e->doc ? e->doc : "no description");
            return WB_ERR_INVALID;
        }
        config_t tmp;
        char why[256];
        config_setting_t *v = wb_tree_parse_value(&tmp, e->default_value, why, sizeof why);
        bool ok = v && wb_tree_copy(root, e->name, v);
        config_destroy(&tmp);
        if (!v) {
            snprintf(err, n, "the plugin's default of '%s' does not parse: %s", e->name, why);
            return WB_ERR_INVALID;
        }
        if (!ok) goto nomem;
    }
    return WB_OK;
nomem:
    snprintf(err, n, "out of memory copying the parameters");
    return WB_ERR_NOMEM;
}

wb_status wb_tf_plugin_configure(void *config, const wb_module_desc *desc, const wb_params *params, char *err,
                                 size_t n) {
    plugin_step *c = config;
    c->desc = desc;
    const wb_transform_vtable *vt = desc->transform;
    if (!vt->create) return WB_OK;
    config_t tree;
    wb_status st = defaulted_params(&tree, desc->params, params, err, n);
    if (st == WB_OK) {
        wb_context ctx;
        wb_context_init(&ctx, NULL, desc->type_name, false);
        WB_PLUGIN_CALL(desc, "create", desc->type_name,
                       st = vt->create(&ctx.pub, wb_params_of(config_root_setting(&tree)), &c->instance));
        if (st != WB_OK) snprintf(err, n, "%s", ctx.msg[0] ? ctx.msg : "create failed without a message");
        else if (ctx.err != WB_OK) st = ctx.err, snprintf(err, n, "%s", ctx.msg);
    }
    config_destroy(&tree);
    return st;
}

static void plugin_release(void *config) {
    plugin_step *c = config;
    if (c->desc && c->desc->transform->destroy && c->instance)
        WB_PLUGIN_CALL(c->desc, "destroy", c->desc->type_name, c->desc->transform->destroy(c->instance));
    c->instance = NULL;
}

static wb_status plugin_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err, size_t n) {
    const plugin_step *c = config;
    /* One draw from the sample's stream seeds the step's own: deterministic
     * per (seed, epoch, index, step), however many numbers the plugin takes. */
    wb_rng step_rng = {wb_rng_next(rng)};
    if (s->is_float) {
        snprintf(err, n, "needs 8-bit pixels, but an earlier step made them fractional (photometric_distortion, "
                 "normalize, mixup or a fill value that is no byte): move it before that step");
        return WB_ERR_INVALID;
    }
    wb_transform_sample view = {
        .struct_size = sizeof view, .pixels = s->img8, .height = s->h, .width = s->w,
        .num_boxes = s->num_boxes, .boxes = s->boxes, .labels = s->labels, .image_id = s->image_id,
    };
    wb_context ctx;
    wb_context_init(&ctx, NULL, c->desc->type_name, false);
    wb_status st;
    WB_PLUGIN_CALL(c->desc, "apply", c->desc->type_name,
                   st = c->desc->transform->apply(c->instance, &ctx.pub, &view, &step_rng));
    if (st == WB_OK) st = ctx.err;
    if (st != WB_OK) {
        snprintf(err, n, "%s (image id %lld)", ctx.msg[0] ? ctx.msg : "apply failed without a message",
                 (long long)s->image_id);
        return st;
    }
    return WB_OK;
}

const wb_transform_type wb_transform_plugin = {
    .name = "plugin",
    .schema = NULL,
    .config_size = sizeof(plugin_step),
    .apply = plugin_apply,
    .release = plugin_release,
};
