/* close_mosaic (MMYOLO's PipelineSwitchHook, YOLOv8's close_mosaic): the
 * training pipeline of the last epochs without the steps that combine
 * images. A mosaic becomes a letterbox to its tile size, so the steps after
 * it (random_affine with its tile-sized output) still get an image of the
 * size they were set up for; mixup goes. */
#include <libconfig.h>
#include <stdio.h>
#include <string.h>
#include "../config/params.h"
#include "transforms.h"
#include "transforms_types.h"

static const char *type_of(const wb_params *step) {
    return step && wb_params_has(step, "type") ? wb_params_string(step, "type") : "";
}

/* A letterbox to the mosaic's tile size with its canvas colour. */
static wb_status add_letterbox_for(wb_pipeline *p, const wb_params *mosaic, char *err, size_t n) {
    const wb_param_schema *schema = wb_transform_schema("mosaic");
    double size[2] = {640, 640};
    wb_tf_float_list(mosaic, schema, "size", size, 2);
    config_t tmp;
    config_init(&tmp);
    config_setting_t *root = config_root_setting(&tmp);
    config_setting_t *list = config_setting_add(root, "size", CONFIG_TYPE_ARRAY);
    config_setting_t *pad = config_setting_add(root, "pad_value", CONFIG_TYPE_FLOAT);
    wb_status st = WB_ERR_NOMEM;
    if (list && pad && config_setting_set_int_elem(list, -1, (int)size[0]) &&
        config_setting_set_int_elem(list, -1, (int)size[1]) &&
        config_setting_set_float(pad, wb_tf_float(mosaic, schema, "pad_value")))
        st = wb_pipeline_add(p, "letterbox", wb_params_of(root), err, n);
    else
        snprintf(err, n, "close_mosaic: out of memory");
    config_destroy(&tmp);
    return st;
}

wb_pipeline *wb_pipeline_create_closed(const wb_params *const *steps, int n_steps, const wb_transform_plugins *plugins,
                                       char *what, size_t what_size, char *err, size_t err_size) {
    wb_pipeline *p = wb_pipeline_empty();
    if (!p) {
        snprintf(err, err_size, "pipeline: out of memory");
        return NULL;
    }
    wb_pipeline_use_plugins(p, plugins);
    what[0] = '\0';
    for (int i = 0; i < n_steps; i++) {
        const char *type = type_of(steps[i]);
        size_t len = strlen(what);
        wb_status st = WB_OK;
        if (strcmp(type, "mosaic") == 0 || strcmp(type, "mosaic9") == 0) {
            snprintf(what + len, what_size - len, "%s%s -> letterbox", len ? ", " : "", type);
            st = add_letterbox_for(p, steps[i], err, err_size);
        } else if (strcmp(type, "mixup") == 0) {
            snprintf(what + len, what_size - len, "%smixup dropped", len ? ", " : "");
        } else {
            st = wb_pipeline_add(p, type, steps[i], err, err_size);
        }
        if (st != WB_OK) {
            wb_pipeline_destroy(p);
            return NULL;
        }
    }
    return p;
}
