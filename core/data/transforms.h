/* The transform pipeline: an mmdetection-style list of steps from the
 * experiment (`pipeline = ( { type = "resize"; ... }, ... );`) run on one
 * wb_data_sample at a time. Every random choice comes from the sample's own
 * RNG (wb_transform_rng), so results never depend on thread count or order. */
#ifndef WB_CORE_DATA_TRANSFORMS_H
#define WB_CORE_DATA_TRANSFORMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <workbench/plugin.h>
#include "sample.h"

typedef struct wb_pipeline wb_pipeline;

/* The known transform types, NULL-terminated, and each one's schema (NULL
 * for an unknown type). The config validator checks pipeline entries with these. */
const char *const *wb_transform_types(void);
const wb_param_schema *wb_transform_schema(const char *type);

/* Builds a pipeline from a list of groups, each with a `type` key. Keys a
 * group leaves out take the schema default. NULL + message in err on error. */
wb_pipeline *wb_pipeline_create(const wb_params *const *steps, int n_steps, char *err, size_t err_size);

/* Transform plugins (WB_KIND_TRANSFORM, workbench/transform.h): how a
 * pipeline finds the descriptor of a step type that is not built in
 * (user: the registry). Built-in names come first. */
typedef struct wb_transform_plugins {
    void *user;
    const wb_module_desc *(*find)(void *user, const char *type);
} wb_transform_plugins;
/* wb_pipeline_create whose steps may name plugin transforms (plugins NULL: built-in only). */
wb_pipeline *wb_pipeline_create_with(const wb_params *const *steps, int n_steps, const wb_transform_plugins *plugins,
                                     char *err, size_t err_size);
/* Later wb_pipeline_add calls may name the plugins' transforms. */
void wb_pipeline_use_plugins(wb_pipeline *p, const wb_transform_plugins *plugins);
/* The same list for close_mosaic's last epochs: mosaic (and mosaic9) become
 * a letterbox to their tile size, mixup goes; `what` gets a summary
 * ("mosaic -> letterbox, mixup dropped", "" when nothing changed). */
wb_pipeline *wb_pipeline_create_closed(const wb_params *const *steps, int n_steps, const wb_transform_plugins *plugins,
                                       char *what, size_t what_size, char *err, size_t err_size);
/* Appends one step (type + its parameters, NULL = all defaults). */
wb_status wb_pipeline_add(wb_pipeline *p, const char *type, const wb_params *params, char *err,
                          size_t err_size);
wb_pipeline *wb_pipeline_empty(void);
int wb_pipeline_length(const wb_pipeline *p);
/* How many other samples step `step` combines with its own (0 for most). */
int wb_pipeline_extra_samples(const wb_pipeline *p, int step);
/* Where steps that combine samples (mosaic, mixup) get the others: `load`
 * fills the caller-owned scratch sample number `slot` (0 .. extra_samples-1
 * of the step) with item `index`, decoded and run through steps [0, step)
 * with the RNG state `rng`, and points *out at it. Those steps may combine
 * samples too (mixup of mosaics): the loader then gives them the slots after
 * the step's own, so a pipeline needs at most WB_MAX_EXTRA_SAMPLES. */
#define WB_MAX_EXTRA_SAMPLES 9
typedef struct wb_sample_source {
    void *user;
    int64_t n_items;
    wb_status (*load)(void *user, int slot, int64_t index, int step, uint64_t rng, wb_data_sample **out,
                      char *err, size_t err_size);
} wb_sample_source;

/* The shorter side a decoded image needs before the pipeline's first
 * resizing step (the larger of its target sides: enough for any aspect
 * ratio), so large images may decode smaller; 0 when a step before it
 * depends on the full-size image (crop, mosaic, pad) or nothing resizes. */
int wb_pipeline_decode_min_side(const wb_pipeline *p);
/* The first letterbox step's longer side and stride (rect batches take their
 * shapes from them); false when the pipeline has none. */
bool wb_pipeline_letterbox(const wb_pipeline *p, int *img_size, int *stride);
/* How many pixels a sample may leave the pipeline with when its image has at
 * most in_pixels: a lower bound of the largest output, for memory estimates
 * before a run (0 in, 0 out when no step sets the size). */
int64_t wb_pipeline_max_pixels(const wb_pipeline *p, int64_t in_pixels);
/* Runs steps [first, last) (last < 0: to the end); clips boxes and drops
 * degenerate ones after them. `more` may be NULL when no step combines
 * samples. */
wb_status wb_pipeline_apply(const wb_pipeline *p, int first, int last, wb_data_sample *s, uint64_t *rng,
                            const wb_sample_source *more, char *err, size_t err_size);
void wb_pipeline_destroy(wb_pipeline *p);

/* The RNG state of one sample: a function of (seed, epoch, dataset index) only. */
uint64_t wb_transform_rng(uint64_t seed, int64_t epoch, int64_t index);

/* Maps boxes given in the sample's input pixels back to original-image pixels
 * (undoes flips, letterbox offset and scaling). */
void wb_sample_boxes_to_original(const wb_data_sample *s, float *boxes, int n);

#endif
