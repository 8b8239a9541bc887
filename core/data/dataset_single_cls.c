#include "dataset_single_cls.h"

#include <stdlib.h>
#include "../plugin/plugin_guard.h"

typedef struct single_cls {
    const wb_dataset_vtable *vt;
    void *ds;
} single_cls;

/* What one get() changed, put back before the dataset's release_sample. */
typedef struct held {
    void *priv;
    int *labels;
} held;

static int64_t sc_length(void *ds) {
    single_cls *v = ds;
    int64_t n;
    WB_PLUGIN_CALL_AT(v->vt, NULL, "dataset length", "single_cls", n = v->vt->length(v->ds));
    return n;
}

static wb_status sc_get(void *ds, wb_ctx *ctx, int64_t index, wb_sample *s) {
    single_cls *v = ds;
    wb_status st;
    WB_PLUGIN_CALL_AT(v->vt, NULL, "dataset get", "single_cls", st = v->vt->get(v->ds, ctx, index, s));
    if (st != WB_OK) return st;
    held *h = malloc(sizeof *h);
    int *zeros = calloc((size_t)(s->num_boxes > 0 ? s->num_boxes : 1), sizeof *zeros);
    if (!h || !zeros) {
        free(h), free(zeros);
        if (v->vt->release_sample)
            WB_PLUGIN_CALL_AT(v->vt, NULL, "dataset release_sample", "single_cls", v->vt->release_sample(v->ds, s));
        return WB_ERR_NOMEM;
    }
    *h = (held){s->priv, s->labels};
    s->priv = h, s->labels = zeros;
    return WB_OK;
}

static void sc_release(void *ds, wb_sample *s) {
    single_cls *v = ds;
    held *h = s->priv;
    free(s->labels);
    s->priv = h->priv, s->labels = h->labels;
    free(h);
    if (v->vt->release_sample)
        WB_PLUGIN_CALL_AT(v->vt, NULL, "dataset release_sample", "single_cls", v->vt->release_sample(v->ds, s));
}

static int sc_num_classes(void *ds) {
    (void)ds;
    return 1;
}

static const char *sc_class_name(void *ds, int label) {
    (void)ds;
    return label == 0 ? "item" : NULL;
}

static int64_t sc_category_id(void *ds, int label) {
    (void)ds;
    return label + 1;
}

static void sc_close(void *ds) {
    single_cls *v = ds;
    WB_PLUGIN_CALL_AT(v->vt, NULL, "dataset close", "single_cls", v->vt->close(v->ds));
    free(v);
}

static const wb_dataset_vtable g_single_cls = {
    .struct_size = sizeof(wb_dataset_vtable),
    .length = sc_length,
    .get = sc_get,
    .release_sample = sc_release,
    .num_classes = sc_num_classes,
    .class_name = sc_class_name,
    .category_id = sc_category_id,
    .close = sc_close,
};

wb_status wb_single_cls_wrap(const wb_dataset_vtable *vt, void *ds, const wb_dataset_vtable **view_vt,
                             void **view_ds) {
    single_cls *v = malloc(sizeof *v);
    if (!v) return WB_ERR_NOMEM;
    *v = (single_cls){vt, ds};
    *view_vt = &g_single_cls;
    *view_ds = v;
    return WB_OK;
}
