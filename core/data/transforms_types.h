/* Internal: what one transform type provides, and schema-aware parameter
 * reading shared by the transform families. */
#ifndef WB_CORE_DATA_TRANSFORMS_TYPES_H
#define WB_CORE_DATA_TRANSFORMS_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <workbench/plugin.h>
#include "sample.h"

typedef struct wb_transform_type {
    const char *name;
    const wb_param_schema *schema;
    size_t config_size;
    /* Reads params (through wb_tf_* so defaults apply) into config. */
    wb_status (*configure)(void *config, const wb_params *params, char *err, size_t err_size);
    wb_status (*apply)(const void *config, wb_data_sample *s, uint64_t *rng, char *err,
                       size_t err_size);
    /* Steps combining several samples (mosaic) set extra_samples and
     * apply_multi instead of apply; the pipeline fetches the others. */
    int extra_samples;
    wb_status (*apply_multi)(const void *config, wb_data_sample *s, wb_data_sample *const *extra,
                             uint64_t *rng, char *err, size_t err_size);
    /* Optional, for steps applied with a probability: drawn before the
     * others are fetched, so a skipped step loads nothing. */
    bool (*wanted)(const void *config, uint64_t *rng);
    /* Optional: what the sample gets instead when wanted() says no (NULL: nothing). */
    wb_status (*apply_unwanted)(const void *config, wb_data_sample *s, char *err, size_t err_size);
    /* Shrink-on-decode (see wb_pipeline_decode_min_side): a step that sets
     * the size from the image alone gives a shorter side the decoded image
     * must keep for its output to come out the same size; steps that commute
     * with scaling (flips, colour) set scale_free instead. */
    int (*decode_min_side)(const void *config);
    bool scale_free;
    /* For memory estimates (lower bounds): the most pixels the step surely
     * can output for inputs of at most in_pixels; NULL: as many as it gets. */
    int64_t (*max_pixels)(const void *config, int64_t in_pixels);
    /* Optional: frees what configure acquired besides config itself. */
    void (*release)(void *config);
} wb_transform_type;

extern const wb_transform_type wb_transform_resize, wb_transform_letterbox, wb_transform_random_flip,
    wb_transform_pad, wb_transform_normalize, wb_transform_photometric, wb_transform_yolo_hsv,
    wb_transform_random_crop, wb_transform_random_affine, wb_transform_mosaic, wb_transform_mixup,
    wb_transform_random_resize, wb_transform_mosaic9;

/* Steps of transform plugins (transforms_plugin.c): configured from the
 * plugin's descriptor, which creates the plugin's instance. */
extern const wb_transform_type wb_transform_plugin;
wb_status wb_tf_plugin_configure(void *config, const wb_module_desc *desc, const wb_params *params, char *err,
                                 size_t n);

/* Parameter reads that fall back to the schema's default when the key is
 * absent (params NULL = all defaults). Lists copy at most max values and return
 * the list's full length. */
double wb_tf_float(const wb_params *p, const wb_param_schema *schema, const char *key);
int64_t wb_tf_int(const wb_params *p, const wb_param_schema *schema, const char *key);
bool wb_tf_bool(const wb_params *p, const wb_param_schema *schema, const char *key);
/* Copies the string (quotes stripped from a default) into out. */
void wb_tf_string(const wb_params *p, const wb_param_schema *schema, const char *key, char *out,
                  size_t out_size);
int wb_tf_float_list(const wb_params *p, const wb_param_schema *schema, const char *key, double *out,
                     int max);

/* Resizes the whole image (bilinear) to nh x nw, scaling boxes and the
 * mapping record. */
wb_status wb_tf_resize_to(wb_data_sample *s, int nh, int nw, char *err, size_t err_size);
/* mmcv's keep-ratio size of a w x h image for scale = [long, short] limits. */
void wb_tf_keep_ratio_size(int w, int h, const int scale[2], int *nw, int *nh);

/* YOLOv5's letterbox of s to w x h (scaling up too), border pad_value. */
wb_status wb_tf_letterbox_to(wb_data_sample *s, int w, int h, float pad_value, char *err, size_t err_size);
/* A letterbox step's longer target side and stride (for rect batch shapes). */
void wb_tf_letterbox_target(const void *config, int *img_size, int *stride);

/* Random helpers on the sample's stream. */
float wb_tf_uniform(uint64_t *rng, float lo, float hi);
bool wb_tf_coin(uint64_t *rng, float prob);
/* An integer in [0, n), n >= 1 (modulo bias is below 1e-13 for image sizes). */
int wb_tf_below(uint64_t *rng, int n);
/* A draw from Beta(alpha, beta), alpha, beta > 0. */
float wb_tf_beta(uint64_t *rng, float alpha, float beta);

#endif
