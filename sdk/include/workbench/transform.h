/* workbench SDK: the transform contract (ABI 1.3): augmentation steps of
 * `data.*.pipeline` written as plugins, albumentations' ImageOnlyTransform.
 *
 * A config names a plugin transform like a built-in one:
 *   pipeline = ( ..., { type = "blur"; p = 0.01; }, ... );
 * The core creates one instance per pipeline step, runs apply() on each
 * sample that reaches the step, and destroys the instance with the pipeline.
 *
 * Sample in, sample out, in place:
 * - pixels: height * width * 3 bytes, RGB, HWC, rows packed (stride width * 3),
 *   owned by the core and valid during apply() only. Overwrite them in place;
 *   the size does not change (read scratch copies from your own memory).
 * - boxes do not move: they are given read-only (x1,y1,x2,y2 in the pixels'
 *   coordinates, with labels), for transforms that look at objects. Steps
 *   that move or resize pixels stay built in for this ABI.
 * - the pixels are 8-bit: a plugin step placed after a step that makes them
 *   fractional (photometric_distortion, normalize, mixup) is refused with the
 *   names of both steps.
 *
 * Randomness: every random choice comes from `rng`, a stream the core derives
 * from (seed, epoch, dataset index, step), so a sample's augmentation does not
 * depend on the number of loader threads or their order. Draw with
 * wb_rng_next_u64 / wb_rng_uniform01 / wb_rng_below below.
 *
 * Threads: apply() runs on several loader threads at once on the SAME
 * instance, without a lock. Treat the instance as read-only after create()
 * and keep per-call state on the stack or in memory you allocate per call.
 *
 * Errors: return the status of wb_error(ctx, ...) (ops.h); the core stops the
 * run with the step's type and the message. Parameters are read in create()
 * through ctx->host->param_* (validated and defaulted from the schema). */
#ifndef WORKBENCH_TRANSFORM_H
#define WORKBENCH_TRANSFORM_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The stream of one apply() call: splitmix64, state owned by the core. */
typedef struct wb_rng {
    uint64_t state;
} wb_rng;

static inline uint64_t wb_rng_next_u64(wb_rng *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double wb_rng_uniform01(wb_rng *r) { return (double)(wb_rng_next_u64(r) >> 11) * 0x1.0p-53; }

/* An integer in [0, n), n >= 1. */
static inline int wb_rng_below(wb_rng *r, int n) { return (int)(wb_rng_next_u64(r) % (uint64_t)n); }

/* The sample as a transform sees it (see above). */
typedef struct wb_transform_sample {
    uint32_t struct_size;
    uint8_t *pixels;     /* height * width * 3, RGB, HWC; write in place */
    int height, width;
    int num_boxes;       /* 0 is fine; the arrays may then be NULL */
    const float *boxes;  /* num_boxes * 4, x1,y1,x2,y2 in pixel coordinates */
    const int *labels;   /* 0..num_classes-1 */
    int64_t image_id;    /* the dataset's id of the image, for messages */
} wb_transform_sample;

typedef struct wb_transform_vtable {
    uint32_t struct_size;
    /* Optional (with destroy): reads params once, on the main thread, when the
     * pipeline is built. NULL: apply() gets a NULL instance. */
    wb_status (*create)(wb_ctx *ctx, const wb_params *params, void **instance);
    /* Required. Changes sample->pixels in place (see the contract above). */
    wb_status (*apply)(void *instance, wb_ctx *ctx, wb_transform_sample *sample, wb_rng *rng);
    void (*destroy)(void *instance);
} wb_transform_vtable;

#ifdef __cplusplus
}
#endif
#endif
