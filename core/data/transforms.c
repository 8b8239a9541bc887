#include "transforms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../config/params.h"
#include "../runtime/context.h"
#include "transforms_types.h"

static const wb_transform_type *const g_types[] = {
    &wb_transform_resize,    &wb_transform_letterbox,   &wb_transform_random_flip,
    &wb_transform_pad,       &wb_transform_normalize,   &wb_transform_photometric,
    &wb_transform_yolo_hsv,  &wb_transform_random_crop, &wb_transform_random_affine,
    &wb_transform_mosaic,    &wb_transform_mixup,       &wb_transform_random_resize,
    &wb_transform_mosaic9,
};
#define N_TYPES ((int)(sizeof g_types / sizeof g_types[0]))

static const wb_transform_type *find_type(const char *name) {
    for (int i = 0; name && i < N_TYPES; i++)
        if (strcmp(g_types[i]->name, name) == 0) return g_types[i];
    return NULL;
}

const char *const *wb_transform_types(void) {
    static const char *names[N_TYPES + 1];
    for (int i = 0; i < N_TYPES; i++) names[i] = g_types[i]->name;
    names[N_TYPES] = NULL;
    return names;
}

const wb_param_schema *wb_transform_schema(const char *type) {
    const wb_transform_type *t = find_type(type);
    return t ? t->schema : NULL;
}

/* ---- parameters with schema defaults ---- */

static const char *default_of(const wb_param_schema *schema, const char *key) {
    for (const wb_param_schema *e = schema; e->name; e++)
        if (strcmp(e->name, key) == 0) return e->default_value ? e->default_value : "";
    return ""; /* a transform asking for a key its schema lacks: a bug caught by the tests */
}

static bool given(const wb_params *p, const char *key) { return p && wb_params_has(p, key); }

double wb_tf_float(const wb_params *p, const wb_param_schema *schema, const char *key) {
    return given(p, key) ? wb_params_float(p, key) : strtod(default_of(schema, key), NULL);
}

int64_t wb_tf_int(const wb_params *p, const wb_param_schema *schema, const char *key) {
    return given(p, key) ? wb_params_int(p, key) : strtoll(default_of(schema, key), NULL, 10);
}

bool wb_tf_bool(const wb_params *p, const wb_param_schema *schema, const char *key) {
    return given(p, key) ? wb_params_bool(p, key) != 0 : strcmp(default_of(schema, key), "true") == 0;
}

void wb_tf_string(const wb_params *p, const wb_param_schema *schema, const char *key, char *out,
                  size_t out_size) {
    if (given(p, key)) {
        const char *v = wb_params_string(p, key);
        snprintf(out, out_size, "%s", v ? v : "");
        return;
    }
    const char *d = default_of(schema, key);
    size_t n = strlen(d);
    if (n >= 2 && d[0] == '"' && d[n - 1] == '"') {
        d++;
        n -= 2;
    }
    snprintf(out, out_size, "%.*s", (int)n, d);
}

int wb_tf_float_list(const wb_params *p, const wb_param_schema *schema, const char *key, double *out,
                     int max) {
    int n = 0;
    if (given(p, key)) {
        /* The full length, so a caller sees a list longer than it takes
         * instead of its first elements silently. */
        int len = wb_params_list_len(p, key);
        for (; n < len && n < max; n++) out[n] = wb_params_float_at(p, key, n);
        return len;
    }
    /* defaults are written in libconfig list syntax: "[1333, 800]" */
    const char *s = default_of(schema, key);
    while (*s && n < max) {
        char *end;
        double v = strtod(s, &end);
        if (end == s) {
            s++;
            continue;
        }
        out[n++] = v;
        s = end;
    }
    return n;
}

float wb_tf_uniform(uint64_t *rng, float lo, float hi) { return lo + (hi - lo) * wb_rng_uniform(rng); }

bool wb_tf_coin(uint64_t *rng, float prob) { return wb_rng_uniform(rng) < prob; }

int wb_tf_below(uint64_t *rng, int n) { return (int)(wb_rng_next(rng) % (uint64_t)n); }

/* ---- pipeline ---- */

typedef struct step {
    const wb_transform_type *type;
    void *config;
    const char *name; /* the type's, or the plugin transform's */
} step;

struct wb_pipeline {
    step *steps;
    int n;
    wb_transform_plugins plugins; /* find NULL: built-in types only */
};

void wb_pipeline_use_plugins(wb_pipeline *p, const wb_transform_plugins *plugins) {
    p->plugins = plugins ? *plugins : (wb_transform_plugins){0};
}

wb_pipeline *wb_pipeline_empty(void) { return calloc(1, sizeof(wb_pipeline)); }

wb_status wb_pipeline_add(wb_pipeline *p, const char *type, const wb_params *params, char *err,
                          size_t err_size) {
    const wb_transform_type *t = find_type(type);
    const wb_module_desc *plugin = !t && type && p->plugins.find ? p->plugins.find(p->plugins.user, type) : NULL;
    if (plugin) t = &wb_transform_plugin;
    if (!t) {
        char known[256] = "";
        for (int i = 0; i < N_TYPES; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     g_types[i]->name);
        snprintf(err, err_size, "pipeline step %d: unknown transform type '%s' (known: %s)", p->n + 1,
                 type ? type : "(none)", known);
        return WB_ERR_INVALID;
    }
    step *grown = realloc(p->steps, (size_t)(p->n + 1) * sizeof *grown);
    void *config = calloc(1, t->config_size);
    if (!grown || !config) {
        if (grown) p->steps = grown;
        free(config);
        snprintf(err, err_size, "pipeline: out of memory adding '%s'", type);
        return WB_ERR_NOMEM;
    }
    p->steps = grown;
    int extra_total = t->extra_samples;
    for (int i = 0; t->extra_samples && i < p->n; i++) {
        extra_total += p->steps[i].type->extra_samples;
        if (p->steps[i].type == t) {
            /* the others of a combining step may pass through the other
             * combining type (mixup of mosaics), never through their own */
            snprintf(err, err_size, "pipeline step %d (%s): only one %s step per pipeline (step %d is one)",
                     p->n + 1, type, type, i + 1);
            free(config);
            return WB_ERR_INVALID;
        }
    }
    if (extra_total > WB_MAX_EXTRA_SAMPLES) {
        snprintf(err, err_size, "pipeline step %d (%s): the steps combining samples need %d others, at most %d",
                 p->n + 1, type, extra_total, WB_MAX_EXTRA_SAMPLES);
        free(config);
        return WB_ERR_INVALID;
    }
    char why[256] = "";
    wb_status st = plugin ? wb_tf_plugin_configure(config, plugin, params, why, sizeof why)
                          : t->configure(config, params, why, sizeof why);
    if (st != WB_OK) {
        snprintf(err, err_size, "pipeline step %d (%s): %s", p->n + 1, type, why);
        if (t->release) t->release(config);
        free(config);
        return st;
    }
    p->steps[p->n++] = (step){t, config, plugin ? plugin->type_name : t->name};
    return WB_OK;
}

wb_pipeline *wb_pipeline_create(const wb_params *const *steps, int n_steps, char *err, size_t err_size) {
    return wb_pipeline_create_with(steps, n_steps, NULL, err, err_size);
}

wb_pipeline *wb_pipeline_create_with(const wb_params *const *steps, int n_steps, const wb_transform_plugins *plugins,
                                     char *err, size_t err_size) {
    wb_pipeline *p = wb_pipeline_empty();
    if (!p) {
        snprintf(err, err_size, "pipeline: out of memory");
        return NULL;
    }
    wb_pipeline_use_plugins(p, plugins);
    for (int i = 0; i < n_steps; i++) {
        const char *type = steps[i] && wb_params_has(steps[i], "type") ? wb_params_string(steps[i], "type")
                                                                      : NULL;
        if (wb_pipeline_add(p, type, steps[i], err, err_size) != WB_OK) {
            wb_pipeline_destroy(p);
            return NULL;
        }
    }
    return p;
}

int wb_pipeline_length(const wb_pipeline *p) { return p ? p->n : 0; }

int wb_pipeline_extra_samples(const wb_pipeline *p, int step) {
    return p && step >= 0 && step < p->n ? p->steps[step].type->extra_samples : 0;
}

int wb_pipeline_decode_min_side(const wb_pipeline *p) {
    for (int i = 0; p && i < p->n; i++) {
        const wb_transform_type *t = p->steps[i].type;
        if (t->decode_min_side) return t->decode_min_side(p->steps[i].config);
        if (!t->scale_free) return 0;
    }
    return 0;
}

bool wb_pipeline_letterbox(const wb_pipeline *p, int *img_size, int *stride) {
    for (int i = 0; p && i < p->n; i++)
        if (p->steps[i].type == &wb_transform_letterbox) {
            wb_tf_letterbox_target(p->steps[i].config, img_size, stride);
            return true;
        }
    return false;
}

int64_t wb_pipeline_max_pixels(const wb_pipeline *p, int64_t in_pixels) {
    for (int i = 0; p && i < p->n; i++)
        if (p->steps[i].type->max_pixels) in_pixels = p->steps[i].type->max_pixels(p->steps[i].config, in_pixels);
    return in_pixels;
}

/* Draws the other samples of step `k` from the sample's stream and fetches them. */
static wb_status apply_multi(const wb_pipeline *p, int k, wb_data_sample *s, uint64_t *rng,
                             const wb_sample_source *more, char *why, size_t n) {
    const wb_transform_type *t = p->steps[k].type;
    if (t->wanted && !t->wanted(p->steps[k].config, rng))
        return t->apply_unwanted ? t->apply_unwanted(p->steps[k].config, s, why, n) : WB_OK;
    if (!more || more->n_items < 1) {
        snprintf(why, n, "needs other samples of the dataset; run it through the loader");
        return WB_ERR_INVALID;
    }
    wb_data_sample *extra[WB_MAX_EXTRA_SAMPLES];
    for (int i = 0; i < t->extra_samples; i++) {
        int64_t index = (int64_t)(wb_rng_next(rng) % (uint64_t)more->n_items);
        uint64_t sub = wb_rng_next(rng);
        wb_status st = more->load(more->user, i, index, k, sub, &extra[i], why, n);
        if (st != WB_OK) return st;
    }
    return t->apply_multi(p->steps[k].config, s, extra, rng, why, n);
}

wb_status wb_pipeline_apply(const wb_pipeline *p, int first, int last, wb_data_sample *s, uint64_t *rng,
                            const wb_sample_source *more, char *err, size_t err_size) {
    int end = p && (last < 0 || last > p->n) ? p->n : last;
    for (int i = first; p && i < end; i++) {
        char why[256] = "";
        wb_status st = p->steps[i].type->extra_samples
                           ? apply_multi(p, i, s, rng, more, why, sizeof why)
                           : p->steps[i].type->apply(p->steps[i].config, s, rng, why, sizeof why);
        if (st != WB_OK) {
            snprintf(err, err_size, "transform %s: %s", p->steps[i].name, why);
            return st;
        }
    }
    wb_data_sample_clip_boxes(s);
    return WB_OK;
}

void wb_pipeline_destroy(wb_pipeline *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) {
        if (p->steps[i].type->release) p->steps[i].type->release(p->steps[i].config);
        free(p->steps[i].config);
    }
    free(p->steps);
    free(p);
}

uint64_t wb_transform_rng(uint64_t seed, int64_t epoch, int64_t index) {
    /* Chain the three through splitmix so nearby (epoch, index) pairs give
     * unrelated streams. */
    uint64_t state = seed;
    state = wb_rng_next(&state) ^ (uint64_t)epoch;
    state = wb_rng_next(&state) ^ (uint64_t)index;
    wb_rng_next(&state);
    return state;
}

void wb_sample_boxes_to_original(const wb_data_sample *s, float *boxes, int n) {
    for (int i = 0; i < n; i++) {
        float *b = boxes + 4 * i;
        if (s->flip_h) {
            float x1 = (float)s->w - b[2], x2 = (float)s->w - b[0];
            b[0] = x1, b[2] = x2;
        }
        if (s->flip_v) {
            float y1 = (float)s->h - b[3], y2 = (float)s->h - b[1];
            b[1] = y1, b[3] = y2;
        }
        b[0] = (b[0] - s->offset_x) / s->scale_x;
        b[2] = (b[2] - s->offset_x) / s->scale_x;
        b[1] = (b[1] - s->offset_y) / s->scale_y;
        b[3] = (b[3] - s->offset_y) / s->scale_y;
    }
}
