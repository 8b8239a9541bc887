#include "autoanchor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../config/config_tree.h"
#include "../config/params.h"
#include "../plugin/plugin_guard.h"
#include "../runtime/log.h"
#include "anchor_fit.h"
#include "anchor_random.h"
#include "box_sizes.h"

#define WHO "autoanchor"

int wb_autoanchor_image_size(wb_experiment *e) {
    static const struct {
        const char *type, *key;
    } sizing[] = {{"letterbox", "size"}, {"resize", "scale"}, {"mosaic", "size"}};
    config_setting_t *list = config_lookup(wb_config_tree(e->cfg), "data.train.pipeline");
    int n = list ? config_setting_length(list) : 0;
    for (int i = 0; i < n; i++) {
        const wb_params *step = wb_params_of(config_setting_get_elem(list, (unsigned)i));
        for (size_t k = 0; k < sizeof sizing / sizeof sizing[0]; k++) {
            if (strcmp(wb_params_string(step, "type"), sizing[k].type) != 0) continue;
            int64_t a = wb_params_int_at(step, sizing[k].key, 0), b = wb_params_int_at(step, sizing[k].key, 1);
            return (int)(a > b ? a : b);
        }
    }
    return 0;
}

/* The head's pixel anchors, when its section declares them: na pairs. */
static int head_anchors(wb_experiment *e, float *anchors, float *anchor_t) {
    const wb_params *head = wb_config_params(e->cfg, "model.head");
    if (!head || !wb_params_has(head, "anchors") || !wb_params_has(head, "anchor_t")) return 0;
    int len = wb_params_list_len(head, "anchors");
    if (len < 2 || len % 2 || len > 2 * WB_MAX_ANCHORS) return 0;
    for (int i = 0; i < len; i++) anchors[i] = (float)wb_params_float_at(head, "anchors", i);
    *anchor_t = (float)wb_params_float(head, "anchor_t");
    return len / 2;
}

/* Box sizes of data.train through its dataset plugin. */
static wb_status read_training_boxes(wb_experiment *e, wb_box_sizes *b, char *err, size_t n) {
    const char *path = "data.train.dataset";
    const wb_params *p = wb_config_params(e->cfg, path);
    const wb_module_desc *desc = p ? wb_registry_find(e->reg, WB_KIND_DATASET, wb_params_string(p, "type")) : NULL;
    if (!desc) {
        snprintf(err, n, "%s: no dataset plugin of this type is loaded", path);
        return WB_ERR_INVALID;
    }
    wb_context c;
    wb_context_init(&c, NULL, path, false);
    void *ds = NULL;
    wb_status st;
    WB_PLUGIN_CALL(desc, "open", path, st = desc->dataset->open(&c.pub, p, &ds));
    if (st != WB_OK || !ds) {
        snprintf(err, n, "%s: cannot open the dataset: %s", path, c.msg[0] ? c.msg : "no message");
        return st != WB_OK ? st : WB_ERR_IO;
    }
    st = wb_box_sizes_read(desc->dataset, ds, &c, b, err, n);
    WB_PLUGIN_CALL(desc, "close", path, desc->dataset->close(ds));
    return st;
}

static void format_anchors(const float *a, int na, char *out, size_t size) {
    size_t at = 0;
    out[0] = 0;
    for (int i = 0; i < na && at < size; i++)
        at += (size_t)snprintf(out + at, size - at, "%s%.0f,%.0f", i ? ", " : "", a[2 * i], a[2 * i + 1]);
}

/* model.head.anchors = the new anchors, rounded to 0.01 px so that the
 * effective config, written with libconfig's precision, reads back as the
 * anchors the model is built with. */
static bool write_anchors(wb_experiment *e, const float *anchors, int na) {
    config_setting_t *head = config_lookup(wb_config_tree(e->cfg), "model.head");
    const config_setting_t *old = config_setting_get_member(head, "anchors");
    const char *file = config_setting_source_file(old);
    unsigned line = config_setting_source_line(old);
    if (!config_setting_remove(head, "anchors")) return false;
    config_setting_t *list = config_setting_add(head, "anchors", CONFIG_TYPE_ARRAY);
    for (int i = 0; list && i < 2 * na; i++)
        if (!config_setting_set_float_elem(list, -1, round(anchors[i] * 100.0) / 100.0)) return false;
    if (list) wb_tree_set_origin(list, file, line);
    return list != NULL;
}

/* Anchors from k-means and evolution replace the configured ones when
 * their recall over the (randomly scaled) sizes is higher. */
static int improve(wb_experiment *e, const wb_box_sizes *b, const float *scaled, int img_size, float *anchors,
                   int na, float anchor_t, wb_anchor_fit before, uint64_t *rng) {
    wb_logf(WB_LOG_INFO, WHO, "anchors are a poor fit to the dataset; running k-means for %d anchors on %lld boxes "
            "and %d generations of evolution", na, (long long)b->n, WB_AUTOANCHOR_GENERATIONS);
    float *unscaled = malloc(sizeof *unscaled * 2 * (size_t)(b->n > 0 ? b->n : 1));
    float found[2 * WB_MAX_ANCHORS];
    if (!unscaled) {
        wb_logf(WB_LOG_ERROR, WHO, "out of memory for %lld box sizes", (long long)b->n);
        return 1;
    }
    wb_box_sizes_scaled(b, img_size, NULL, unscaled);
    double fitness = wb_anchor_search(unscaled, b->n, na, anchor_t, img_size, WB_AUTOANCHOR_GENERATIONS, rng, found);
    free(unscaled);
    if (fitness < 0) {
        wb_logf(WB_LOG_ERROR, WHO, "out of memory for the anchor search");
        return 1;
    }
    wb_anchor_fit after = wb_anchor_fit_of(scaled, b->n, found, na, anchor_t);
    char text[2048];
    format_anchors(found, na, text, sizeof text);
    if (!(after.bpr > before.bpr)) {
        wb_logf(WB_LOG_INFO, WHO, "new anchors (%s; fitness %.4f) reach BPR %.4f, not above %.4f: keeping the "
                "configured anchors", text, fitness, after.bpr, before.bpr);
        return 0;
    }
    if (!write_anchors(e, found, na)) {
        wb_logf(WB_LOG_ERROR, WHO, "out of memory writing model.head.anchors");
        return 1;
    }
    memcpy(anchors, found, sizeof *found * 2 * (size_t)na);
    wb_logf(WB_LOG_INFO, WHO, "BPR %.4f -> %.4f (%.2f anchors/target, fitness %.4f): model.head.anchors = [%s] "
            "(in the effective config; put them in the experiment to skip this search)", before.bpr, after.bpr,
            after.aat, fitness, text);
    return 0;
}

int wb_autoanchor(wb_experiment *e) {
    const wb_params *root = wb_config_params(e->cfg, "");
    float anchors[2 * WB_MAX_ANCHORS], anchor_t = 0;
    int na = head_anchors(e, anchors, &anchor_t);
    if (!wb_params_bool(root, "autoanchor") || na == 0) return 0;
    int img_size = wb_autoanchor_image_size(e);
    if (img_size <= 0) {
        wb_logf(WB_LOG_WARN, WHO, "no step of data.train.pipeline sets the image size (letterbox, resize, mosaic): "
                "anchors not checked");
        return 0;
    }
    wb_box_sizes b;
    char err[2048];
    if (read_training_boxes(e, &b, err, sizeof err) != WB_OK) {
        wb_logf(WB_LOG_ERROR, WHO, "%s (set autoanchor = false to train with the configured anchors)", err);
        wb_box_sizes_free(&b);
        return 1;
    }
    uint64_t rng = wb_rng_seed_for((uint64_t)wb_params_int(root, "seed"), WHO);
    double *scales = malloc(sizeof *scales * (size_t)(b.n_images > 0 ? b.n_images : 1));
    float *scaled = malloc(sizeof *scaled * 2 * (size_t)(b.n > 0 ? b.n : 1));
    int rc = 0;
    if (!scales || !scaled) {
        wb_logf(WB_LOG_ERROR, WHO, "out of memory for %lld box sizes", (long long)b.n);
        rc = 1;
    } else if (b.n == 0) {
        wb_logf(WB_LOG_WARN, WHO, "the training set has no boxes: anchors not checked");
    } else {
        for (int64_t i = 0; i < b.n_images; i++) scales[i] = 0.9 + 0.2 * wb_anchor_uniform(&rng); /* augment scale */
        wb_box_sizes_scaled(&b, img_size, scales, scaled);
        wb_anchor_fit fit = wb_anchor_fit_of(scaled, b.n, anchors, na, anchor_t);
        wb_logf(WB_LOG_INFO, WHO, "%.2f anchors/target, %.4f best possible recall (BPR) over %lld boxes at %d px, "
                "anchor_t %g", fit.aat, fit.bpr, (long long)b.n, img_size, anchor_t);
        if (fit.bpr > WB_AUTOANCHOR_MIN_BPR)
            wb_logf(WB_LOG_INFO, WHO, "the configured anchors fit the dataset");
        else
            rc = improve(e, &b, scaled, img_size, anchors, na, anchor_t, fit, &rng);
    }
    free(scales);
    free(scaled);
    wb_box_sizes_free(&b);
    return rc;
}
