#include "data_split.h"

#include <stdio.h>
#include <string.h>
#include "../config/params.h"
#include "../data/dataset_single_cls.h"
#include "../plugin/plugin_guard.h"
#include "../runtime/context.h"
#include "../runtime/log.h"

/* single_cls gives the head one class to learn. */
static int check_single_cls(wb_experiment *e, char *err, size_t n) {
    const wb_params *head = wb_config_params(e->cfg, "model.head");
    bool single = wb_params_bool(wb_config_params(e->cfg, "data"), "single_cls");
    int64_t classes = head && wb_params_has(head, "num_classes") ? wb_params_int(head, "num_classes") : 1;
    if (!single || classes == 1) return 0;
    snprintf(err, n, "data.single_cls = true trains one class (every label becomes 0, \"item\"), and "
             "model.head.num_classes is %lld: set model.head.num_classes = 1", (long long)classes);
    return -1;
}

int wb_data_split_check(wb_experiment *e, const char *split, char *err, size_t n) {
    if (check_single_cls(e, err, n) != 0) return -1;
    char path[64];
    snprintf(path, sizeof path, "data.%s", split);
    const wb_params *sp = wb_config_params(e->cfg, path);
    if (!sp || !wb_params_bool(sp, "rect")) return 0;
    snprintf(path, sizeof path, "data.%s.pipeline", split);
    config_setting_t *list = config_lookup(wb_config_tree(e->cfg), path);
    for (int i = 0; list && i < config_setting_length(list); i++) {
        const char *type = NULL;
        if (config_setting_lookup_string(config_setting_get_elem(list, (unsigned)i), "type", &type) &&
            strcmp(type, "letterbox") == 0)
            return 0;
    }
    snprintf(err, n, "data.%s.rect = true needs a letterbox step in data.%s.pipeline (its size and stride give "
             "the batches' shapes)", split, split);
    return -1;
}

bool wb_data_split_exists(wb_experiment *e, const char *split) {
    char path[64];
    snprintf(path, sizeof path, "data.%s.dataset", split);
    return wb_config_params(e->cfg, path) != NULL;
}

enum { MAX_STEPS = 64 };

/* The steps of data.<split>.pipeline; -1 with a message when too many. */
static int pipeline_steps(wb_experiment *e, const char *split, const wb_params **steps, char *path, size_t path_size,
                          char *err, size_t n) {
    snprintf(path, path_size, "data.%s.pipeline", split);
    config_setting_t *list = config_lookup(wb_config_tree(e->cfg), path);
    int n_steps = list ? config_setting_length(list) : 0;
    if (n_steps > MAX_STEPS) {
        snprintf(err, n, "%s: %d transforms, at most %d are supported", path, n_steps, MAX_STEPS);
        return -1;
    }
    for (int i = 0; i < n_steps; i++) steps[i] = wb_params_of(config_setting_get_elem(list, (unsigned)i));
    return n_steps;
}

wb_pipeline *wb_data_split_pipeline(wb_experiment *e, const char *split, char *err, size_t n) {
    const wb_params *steps[MAX_STEPS];
    char path[64], why[1024];
    int n_steps = pipeline_steps(e, split, steps, path, sizeof path, err, n);
    wb_transform_plugins plugins = wb_registry_transform_plugins(e->reg);
    wb_pipeline *pipeline = n_steps >= 0 ? wb_pipeline_create_with(steps, n_steps, &plugins, why, sizeof why) : NULL;
    if (!pipeline && n_steps >= 0) snprintf(err, n, "%s: %s", path, why);
    return pipeline;
}

/* close_mosaic's pipeline, logged with what changes from which epoch. */
static wb_pipeline *closed_pipeline(wb_experiment *e, const char *split, int64_t from, char *err, size_t n) {
    const wb_params *steps[MAX_STEPS];
    char path[64], why[1024], what[256];
    int n_steps = pipeline_steps(e, split, steps, path, sizeof path, err, n);
    wb_transform_plugins plugins = wb_registry_transform_plugins(e->reg);
    wb_pipeline *p = n_steps >= 0 ? wb_pipeline_create_closed(steps, n_steps, &plugins, what, sizeof what, why,
                                                              sizeof why)
                                  : NULL;
    if (!p && n_steps >= 0) snprintf(err, n, "%s (close_mosaic): %s", path, why);
    if (p && !what[0])
        wb_logf(WB_LOG_WARN, "data", "close_mosaic: %s has no mosaic or mixup step; nothing to switch off", path);
    else if (p)
        wb_logf(WB_LOG_INFO, "data", "close_mosaic: from epoch %lld on, %s runs with %s", (long long)from + 1, path,
                what);
    return p;
}

wb_status wb_data_split_open(wb_data_split *d, wb_experiment *e, wb_session *s, const char *split,
                             const wb_split_opts *o, char *err, size_t n) {
    memset(d, 0, sizeof *d);
    d->name = split;
    char path[64];
    snprintf(path, sizeof path, "data.%s.dataset", split);
    d->params = wb_config_params(e->cfg, path);
    if (!d->params) {
        snprintf(err, n, "the experiment has no %s", path);
        return WB_ERR_INVALID;
    }
    d->desc = wb_registry_find(e->reg, WB_KIND_DATASET, wb_params_string(d->params, "type"));
    if (!d->desc) {
        snprintf(err, n, "%s: no dataset plugin of type '%s' is loaded", path, wb_params_string(d->params, "type"));
        return WB_ERR_INVALID;
    }
    d->vt = d->desc->dataset;
    wb_context c;
    wb_context_init(&c, s, path, false);
    wb_status st;
    WB_PLUGIN_CALL(d->desc, "open", path, st = d->vt->open(&c.pub, d->params, &d->ds));
    if (st != WB_OK || !d->ds) {
        snprintf(err, n, "%s: cannot open the dataset: %s", path, c.msg[0] ? c.msg : "no message");
        d->ds = NULL;
        return c.err != WB_OK ? c.err : WB_ERR_IO;
    }
    const wb_params *data = wb_config_params(e->cfg, "data");
    if (wb_params_bool(data, "single_cls") && wb_single_cls_wrap(d->vt, d->ds, &d->vt, &d->ds) != WB_OK) {
        snprintf(err, n, "%s: out of memory for data.single_cls", path);
        return WB_ERR_NOMEM;
    }
    int64_t length;
    WB_PLUGIN_CALL(d->desc, "length", path, length = d->vt->length(d->ds));
    if (length <= 0) {
        snprintf(err, n, "%s: the dataset has no usable image", path);
        return WB_ERR_INVALID;
    }
    if (o->dataset_only) return WB_OK;
    d->pipeline = wb_data_split_pipeline(e, split, err, n);
    if (!d->pipeline) return WB_ERR_INVALID;
    if (o->training && o->close_mosaic && !(d->late_pipeline = closed_pipeline(e, split, o->close_mosaic_from, err, n)))
        return WB_ERR_INVALID;
    wb_loader_opts lo = {
        .batch_size = o->batch_size > 0 ? o->batch_size : (int)wb_params_int(data, "batch_size"),
        .workers = (int)wb_params_int(data, "workers"),
        .shuffle = o->training,
        .image_weights = o->training && wb_params_bool(data, "image_weights"),
        .drop_last = false,
        .size_divisor = (int)wb_params_int(data, "size_divisor"),
        .max_image_pixels = wb_params_int(data, "max_image_pixels"),
        .max_boxes = (int)wb_params_int(data, "max_boxes_per_image"),
        .seed = (uint64_t)wb_params_int(wb_config_params(e->cfg, ""), "seed"),
        .rank = o->rank,
        .world = o->world,
        .uneven = !o->training, /* evaluation sees every image once */
        .start_epoch = o->start_epoch,
        .max_epochs = o->training ? 0 : 1,
        .on_bad_sample = o->on_bad_sample,
        .pipeline = o->no_pipeline ? NULL : d->pipeline,
        .late_pipeline = d->late_pipeline,
        .late_from_epoch = o->close_mosaic_from,
    };
    snprintf(path, sizeof path, "data.%s", split);
    const wb_params *sp = wb_config_params(e->cfg, path);
    if (wb_params_bool(sp, "rect") && !o->no_pipeline &&
        !wb_pipeline_letterbox(d->pipeline, &lo.rect_img_size, &lo.rect_stride)) {
        snprintf(err, n, "data.%s.rect = true needs a letterbox step in data.%s.pipeline (its size and stride "
                 "give the batches' shapes)", split, split);
        return WB_ERR_INVALID;
    }
    if (lo.rect_img_size > 0 && lo.image_weights) {
        snprintf(err, n, "data.%s.rect and data.image_weights exclude each other (rect batches are fixed groups of "
                 "similar images); turn one off", split);
        return WB_ERR_INVALID;
    }
    lo.rect_pad = wb_params_float(sp, "rect_pad");
    char why[1024];
    d->loader = wb_loader_create(&lo, d->vt, d->ds, why, sizeof why);
    if (!d->loader) {
        snprintf(err, n, "data.%s: %s", split, why);
        return WB_ERR_INVALID;
    }
    return WB_OK;
}

void wb_data_split_close(wb_data_split *d) {
    if (d->loader) wb_loader_destroy(d->loader);
    if (d->ds) WB_PLUGIN_CALL(d->desc, "close", d->name, d->vt->close(d->ds));
    if (d->pipeline) wb_pipeline_destroy(d->pipeline);
    if (d->late_pipeline) wb_pipeline_destroy(d->late_pipeline);
    memset(d, 0, sizeof *d);
}
