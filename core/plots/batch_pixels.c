#include "batch_pixels.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "../config/params.h"
#include "../data/transforms.h"
#include "../data/transforms_types.h"

void wb_denorm_of_split(wb_config *cfg, const char *split, wb_denorm *d) {
    *d = (wb_denorm){{0, 0, 0}, {1, 1, 1}, false};
    char path[64];
    snprintf(path, sizeof path, "data.%s.pipeline", split);
    config_setting_t *list = config_lookup(wb_config_tree(cfg), path);
    int n = list ? config_setting_length(list) : 0;
    const wb_param_schema *schema = wb_transform_schema("normalize");
    for (int i = 0; i < n; i++) {
        const wb_params *p = wb_params_of(config_setting_get_elem(list, (unsigned)i));
        if (!p || strcmp(wb_params_string(p, "type"), "normalize") != 0) continue;
        double mean[3], std[3];
        if (wb_tf_float_list(p, schema, "mean", mean, 3) != 3 || wb_tf_float_list(p, schema, "std", std, 3) != 3)
            continue;
        for (int k = 0; k < 3; k++) d->mean[k] = (float)mean[k], d->std[k] = (float)std[k];
        d->bgr = !wb_tf_bool(p, schema, "to_rgb");
    }
}

void wb_denorm_image(const float *batch, int i, int h, int w, const wb_denorm *d, uint8_t *out) {
    size_t plane = (size_t)h * w;
    const float *img = batch + (size_t)i * 3 * plane;
    for (int k = 0; k < 3; k++) {
        const float *src = img + (size_t)k * plane;
        int dst = d->bgr ? 2 - k : k;
        for (size_t p = 0; p < plane; p++) {
            float v = src[p] * d->std[k] + d->mean[k];
            out[3 * p + dst] = (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : lrintf(v));
        }
    }
}
