#define _GNU_SOURCE /* open_memstream */
#include "trained_model.h"

#include <libconfig.h>
#include <stdlib.h>
#include <string.h>
#include "../config/config_tree.h"
#include "../config/params.h"
#include "../io/safetensors.h"
#include "../train/checkpoint.h"

wb_model *wb_trained_model(wb_experiment *e, wb_session *s, const char *checkpoint, FILE *log) {
    char err[2048];
    wb_model *m = NULL;
    if (wb_model_build(s, wb_config_params(e->cfg, "model"), &m, err, sizeof err) != WB_OK) {
        fprintf(log, "error: %s\n", err);
        return NULL;
    }
    wb_load_report rep;
    wb_load_opts lo = {.allow_nonfinite = strcmp(wb_params_string(wb_config_params(e->cfg, ""), "load_nonfinite"),
                                                 "allow") == 0};
    if (wb_checkpoint_load(checkpoint, s, &lo, &rep, err, sizeof err) != WB_OK) {
        fprintf(log, "error: %s\n", err);
        wb_model_destroy(m);
        return NULL;
    }
    if (rep.missing || rep.shape_mismatched) {
        char what[3200];
        wb_load_report_describe(&rep, rep.unexpected > 0, what, sizeof what);
        fprintf(log, "error: %s does not fit this experiment's model: %d of its %d parameters fit; %s. Is it a "
                "checkpoint of this experiment (same model section and num_classes)?\n", checkpoint, rep.matched,
                s->n_params, what);
        wb_model_destroy(m);
        return NULL;
    }
    return m;
}

/* The test-time settings as libconfig text: { split = "test"; pipeline =
 * (...); size_divisor = 32; } of data.test, else data.val; NULL when the
 * experiment has neither. */
static char *test_settings_text(wb_experiment *e) {
    static const char *const splits[] = {"test", "val"};
    config_t *tree = wb_config_tree(e->cfg);
    for (int i = 0; i < 2; i++) {
        char path[64];
        snprintf(path, sizeof path, "data.%s", splits[i]);
        const config_setting_t *split = config_lookup(tree, path);
        if (!split) continue;
        const config_setting_t *pipeline = config_setting_get_member(split, "pipeline");
        config_t out;
        config_init(&out);
        config_setting_t *root = config_root_setting(&out);
        config_setting_set_string(config_setting_add(root, "split", CONFIG_TYPE_STRING), splits[i]);
        if (pipeline) wb_tree_copy(root, "pipeline", pipeline);
        config_setting_set_int(config_setting_add(root, "size_divisor", CONFIG_TYPE_INT),
                               (int)wb_params_int(wb_config_params(e->cfg, "data"), "size_divisor"));
        char *text = NULL;
        size_t size = 0;
        FILE *mem = open_memstream(&text, &size);
        if (mem) {
            config_write(&out, mem);
            fclose(mem);
        }
        config_destroy(&out);
        return text;
    }
    return NULL;
}

wb_status wb_labels_of_training(wb_experiment *e, const wb_dataset_vtable *vt, void *ds, wb_checkpoint_labels *l,
                                char *err, size_t n) {
    memset(l, 0, sizeof *l);
    l->num_classes = vt->num_classes(ds);
    l->class_names = calloc((size_t)(l->num_classes > 0 ? l->num_classes : 1), sizeof *l->class_names);
    l->category_ids = calloc((size_t)(l->num_classes > 0 ? l->num_classes : 1), sizeof *l->category_ids);
    bool ok = l->class_names && l->category_ids;
    for (int k = 0; ok && k < l->num_classes; k++) {
        const char *name = vt->class_name(ds, k);
        ok = (l->class_names[k] = strdup(name ? name : "")) != NULL;
        l->category_ids[k] = vt->category_id(ds, k);
    }
    l->test_pipeline = ok ? test_settings_text(e) : NULL;
    if (ok) return WB_OK;
    wb_checkpoint_labels_free(l);
    snprintf(err, n, "out of memory for the class names");
    return WB_ERR_NOMEM;
}

/* A names-only dataset over stored labels. */
static int stored_count(void *ds) { return ((wb_checkpoint_labels *)ds)->num_classes; }

static const char *stored_name(void *ds, int label) {
    const wb_checkpoint_labels *l = ds;
    return label >= 0 && label < l->num_classes ? l->class_names[label] : NULL;
}

static int64_t stored_id(void *ds, int label) {
    const wb_checkpoint_labels *l = ds;
    return label >= 0 && label < l->num_classes ? l->category_ids[label] : label;
}

static void stored_close(void *ds) {
    wb_checkpoint_labels_free(ds);
    free(ds);
}

static const wb_dataset_vtable stored_names = {
    .struct_size = sizeof(wb_dataset_vtable),
    .num_classes = stored_count,
    .class_name = stored_name,
    .category_id = stored_id,
    .close = stored_close,
};

bool wb_stored_class_names(wb_experiment *e, const char *checkpoint, const wb_dataset_vtable **vt, void **ds,
                           FILE *log) {
    wb_checkpoint_labels *l = calloc(1, sizeof *l);
    wb_st_file f;
    char err[2048];
    int found = l && wb_st_read_header(checkpoint, &f, err, sizeof err) == WB_OK ? 0 : -2;
    if (found == 0) {
        found = wb_checkpoint_labels_read(&f, l, err, sizeof err);
        wb_st_free(&f);
    }
    const wb_params *head = wb_config_params(e->cfg, "model.head");
    int model_classes = head && wb_params_has(head, "num_classes") ? (int)wb_params_int(head, "num_classes") : -1;
    if (found == 1 && model_classes >= 0 && l->num_classes != model_classes) {
        snprintf(err, sizeof err, "it stores %d class names but model.head.num_classes is %d", l->num_classes,
                 model_classes);
        found = -1;
    }
    if (found == 1) {
        char *now = test_settings_text(e);
        if (l->test_pipeline && now && strcmp(l->test_pipeline, now) != 0)
            fprintf(log, "note: this experiment's test-time input settings (data.test or data.val: pipeline, "
                    "size_divisor) differ from those %s was trained with (its __metadata__.test_pipeline)\n",
                    checkpoint);
        free(now);
        *vt = &stored_names;
        *ds = l;
        return true;
    }
    if (found == -1) fprintf(log, "warning: %s: class names ignored: %s; taking them from the dataset\n", checkpoint, err);
    if (l) wb_checkpoint_labels_free(l);
    free(l);
    return false;
}
