/* A generated dataset for the quickstart and for tests: image i is drawn
 * from a stream seeded by (seed, i) alone, so any thread order and any
 * number of workers give the same pixels. Up to max_objects shapes
 * (rectangle, ellipse, triangle: one class each) on a textured background,
 * placed with little overlap; the later shape is drawn on top, and boxes
 * are the tight bounds of the pixels drawn. */
#include <stdlib.h>
#include <string.h>
#include <workbench/workbench.h>

#include "synthetic_draw.h"

typedef struct synthetic_dataset {
    int64_t num_images;
    int image_size, num_classes, max_objects;
    uint64_t seed;
} synthetic_dataset;

static const char *const class_names[SHAPE_KINDS] = {"rectangle", "ellipse", "triangle"};

static const wb_param_schema synthetic_params[] = {
    WB_P_INT("num_images", "64", 1, 1e7, "number of images"),
    WB_P_INT("image_size", "128", 32, 4096, "square image side in pixels"),
    WB_P_INT("num_classes", "3", 1, 3, "shape kinds used: rectangle, ellipse, triangle"),
    WB_P_INT("max_objects", "4", 1, 50, "at most this many shapes per image (at least one)"),
    WB_P_INT("seed", "0", 0, 2147483647, "generator seed"),
    WB_PARAM_END,
};

static int64_t int_param(const wb_host_api *h, const wb_params *p, const char *key, int64_t def) {
    return h->param_has(p, key) ? h->param_int(p, key) : def;
}

static wb_status synthetic_open(wb_ctx *ctx, const wb_params *p, void **out) {
    const wb_host_api *h = ctx->host;
    *out = NULL;
    synthetic_dataset *d = calloc(1, sizeof *d);
    if (!d) return h->set_error(ctx, WB_ERR_NOMEM, "synthetic: out of memory");
    d->num_images = int_param(h, p, "num_images", 64);
    d->image_size = (int)int_param(h, p, "image_size", 128);
    d->num_classes = (int)int_param(h, p, "num_classes", 3);
    d->max_objects = (int)int_param(h, p, "max_objects", 4);
    d->seed = (uint64_t)int_param(h, p, "seed", 0);
    if (d->num_images < 1 || d->image_size < 32 || d->num_classes < 1 || d->num_classes > SHAPE_KINDS ||
        d->max_objects < 1) {
        free(d);
        return h->set_error(ctx, WB_ERR_INVALID,
                            "synthetic: need num_images >= 1, image_size >= 32, 1 <= num_classes <= 3, max_objects >= 1");
    }
    *out = d;
    return WB_OK;
}

static int64_t synthetic_length(void *ds) { return ((synthetic_dataset *)ds)->num_images; }

static float overlap(const float *a, const float *b) {
    float iw = (a[2] < b[2] ? a[2] : b[2]) - (a[0] > b[0] ? a[0] : b[0]);
    float ih = (a[3] < b[3] ? a[3] : b[3]) - (a[1] > b[1] ? a[1] : b[1]);
    if (iw <= 0 || ih <= 0) return 0;
    float inter = iw * ih, area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);
    return inter / (area_a < area_b ? area_a : area_b);
}

static wb_status synthetic_get(void *ds, wb_ctx *ctx, int64_t index, wb_sample *s) {
    synthetic_dataset *d = ds;
    const wb_host_api *h = ctx->host;
    if (index < 0 || index >= d->num_images)
        return h->set_error(ctx, WB_ERR_INVALID, "synthetic: index %lld out of range [0, %lld)", (long long)index,
                            (long long)d->num_images);
    int size = d->image_size, max = d->max_objects;
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    uint8_t *pixels = malloc((size_t)size * size * 3);
    s->boxes = malloc(sizeof(float) * 4 * (size_t)max);
    s->labels = malloc(sizeof(int) * (size_t)max);
    s->ignore = calloc((size_t)max, 1);
    if (!pixels || !s->boxes || !s->labels || !s->ignore) {
        free(pixels), free(s->boxes), free(s->labels), free(s->ignore);
        memset(s, 0, sizeof *s);
        return h->set_error(ctx, WB_ERR_NOMEM, "synthetic: out of memory for a %dx%d image", size, size);
    }
    rng64 r = {d->seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)index * 0xD1B54A32D192ED03ull};
    draw_background(pixels, size, &r);
    int wanted = 1 + (int)(rng_unit(&r) * max);
    for (int attempt = 0; attempt < 8 * wanted && s->num_boxes < wanted; attempt++) {
        int kind = (int)(rng_unit(&r) * d->num_classes);
        float w = size * (0.12f + 0.3f * rng_unit(&r)), hh = w * (0.6f + 0.8f * rng_unit(&r));
        if (hh > 0.9f * size) hh = 0.9f * size;
        float x = rng_unit(&r) * (size - w), y = rng_unit(&r) * (size - hh);
        float cand[4] = {x, y, x + w, y + hh};
        int clash = 0;
        for (int k = 0; k < s->num_boxes && !clash; k++) clash = overlap(cand, s->boxes + 4 * k) > 0.2f;
        float box[4];
        if (clash || !draw_shape(pixels, size, kind, x, y, w, hh, &r, box)) continue;
        memcpy(s->boxes + 4 * s->num_boxes, box, sizeof box);
        s->labels[s->num_boxes++] = kind;
    }
    s->pixels = pixels;
    s->width = s->height = size;
    s->image_id = index;
    return WB_OK;
}

static void synthetic_release(void *ds, wb_sample *s) {
    (void)ds;
    free((void *)s->pixels);
    free(s->boxes);
    free(s->labels);
    free(s->ignore);
    memset(s, 0, sizeof *s);
}

static int synthetic_num_classes(void *ds) { return ((synthetic_dataset *)ds)->num_classes; }

static const char *synthetic_class_name(void *ds, int label) {
    return label >= 0 && label < ((synthetic_dataset *)ds)->num_classes ? class_names[label] : NULL;
}

/* The format has no ids of its own: 1..K in class order, COCO's convention, so a
 * results file matches a COCO conversion of the annotations (ids start at 1). */
static int64_t synthetic_category_id(void *ds, int label) {
    (void)ds;
    return (int64_t)label + 1;
}

static void synthetic_close(void *ds) { free(ds); }

static const wb_dataset_vtable synthetic_vtable = {
    sizeof(wb_dataset_vtable), synthetic_open, synthetic_length, synthetic_get, synthetic_release,
    synthetic_num_classes, synthetic_class_name, synthetic_category_id, synthetic_close,
};

static const wb_module_desc synthetic_desc = {
    sizeof(wb_module_desc), WB_KIND_DATASET, "synthetic", "seeded shapes on textured backgrounds", 0,
    synthetic_params, NULL, &synthetic_vtable, NULL,
};

WB_PLUGIN_DEFINE("dataset_synthetic", "1.0.0", "MIT", &synthetic_desc)
