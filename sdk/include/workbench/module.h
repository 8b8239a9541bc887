/* workbench SDK: the module contract for backbones, necks, heads and losses.
 *
 * One vtable serves four kinds; what differs is what flows in and out:
 *   backbone  in:  one tensor "image" [N, 3, H, W] (normalised, padded to the
 *                  batch size), spec {"image", 3, 1}
 *             out: feature maps [N, C, H/s, W/s], one per output spec
 *   neck      in:  the backbone's outputs, in the backbone's spec order
 *             out: feature maps (any number), one per output spec
 *   head      in:  the neck's outputs (the backbone's when there is no neck)
 *             out: prediction maps; loss() turns them into named scalar terms,
 *                  predict() into detections in original-image pixels
 *   loss      in:  [pred, target] or [pred, target, weight] (see below)
 *             out: one tensor, spec {"loss", 1, 0}
 * docs/writing-a-plugin.md walks through each with a complete example. */
#ifndef WORKBENCH_MODULE_H
#define WORKBENCH_MODULE_H

#include "params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wb_module_kind {
    WB_KIND_BACKBONE = 1,
    WB_KIND_NECK = 2,
    WB_KIND_HEAD = 3,
    WB_KIND_LOSS = 4,
    WB_KIND_DATASET = 5,
    WB_KIND_TRANSFORM = 6 /* ABI 1.3: pipeline steps, see transform.h */
} wb_module_kind;

/* Capability bits in wb_module_desc.caps. */
#define WB_CAP_CUSTOM_BACKWARD 0x1u /* backward() is hand-written; otherwise the tape is replayed */
/* Datasets: declares get() safe on several threads at once. Informational
 * (`describe` shows it): the core calls get() concurrently in any case, so
 * every dataset must be (see dataset.h). */
#define WB_CAP_THREAD_SAFE_GET 0x2u

/* Ground truth of one image, in the pixel space of the network input
 * (after transforms, before padding). Boxes are x1,y1,x2,y2. Everything here
 * belongs to the core and is valid only during the call that received it. */
typedef struct wb_gt_image {
    uint32_t struct_size;
    int num_boxes;
    const float *boxes;     /* num_boxes * 4; num_boxes may be 0 (an image of background) */
    const int *labels;      /* 0..num_classes-1 */
    const uint8_t *ignore;  /* num_boxes flags, never NULL; 1: crowd / difficult region,
                             * neither positive nor negative */
    int img_h, img_w;       /* valid (unpadded) input size */
    int ori_h, ori_w;       /* size of the original image */
    float scale_x, scale_y; /* input pixels per original pixel */
    int64_t image_id;       /* the dataset's wb_sample.image_id */
    /* input pixel = original pixel * scale + offset (letterbox borders) */
    float offset_x, offset_y;
} wb_gt_image;

/* A batch's truth (loss) or its images' geometry (predict: boxes are those of
 * the dataset when it has any, and a head must not need them). */
typedef struct wb_batch_truth {
    uint32_t struct_size;
    int batch;
    int pad_h, pad_w; /* size of the batched input tensor */
    const wb_gt_image *images; /* batch entries, in the order of the tensors' first axis */
} wb_batch_truth;

/* One named loss term of a head; `value` is a one-element tensor built with
 * SDK ops on the head's context, so backward reaches the head's predictions.
 * The trained total is the plain sum of the terms (each gets gradient 1), so
 * weights and normalisation (1 / number of positives) belong in the terms.
 * A term that is not one finite value stops training with the term's name.
 * ABI 1.3: a term whose name does not contain "loss" (mmdetection's
 * parse_losses rule: "acc", "s0.acc") is a metric, logged beside the others
 * but neither trained nor part of the total. */
typedef struct wb_loss_term {
    char name[WB_NAME_MAX]; /* "loss_cls", "loss_bbox", ... */
    wb_tensor *value;
} wb_loss_term;
/* ABI 1.3: 16 (was 8; a plugin never runs on a core older than it, so a
 * 1.2 plugin's 8 fit and a 1.3 plugin's 16 always have room). */
#define WB_MAX_LOSS_TERMS 16

/* Detections of one image in original-image pixels (original = (input -
 * offset) / scale, see wb_gt_image), owned by the plugin: the core zeroes
 * each entry and sets struct_size before predict, reads the arrays, and calls
 * release_detections once per image after a successful predict. A predict
 * that fails frees what it allocated itself. */
typedef struct wb_detections {
    uint32_t struct_size;
    int num;       /* 0 is fine; the arrays may then be NULL */
    float *boxes;  /* num * 4, x1,y1,x2,y2 */
    float *scores; /* probabilities in [0, 1]; any order */
    int *labels;   /* 0..num_classes-1 */
} wb_detections;

/* A module instance is an opaque pointer owned by the plugin.
 * Calls happen in this order: create, output_specs, init_params, then any
 * number of forward/backward (and loss/predict for heads), then destroy.
 * All calls of one instance come from one thread, one at a time.
 * Required: create, output_specs, forward, destroy; heads also loss and
 * predict; WB_CAP_CUSTOM_BACKWARD also backward. The loader REJECTS a plugin
 * missing one.
 *
 * Tensors: inputs, parameters and buffers belong to the core; never release
 * them. Everything forward creates except its outputs is released when it
 * returns (wb_release frees an intermediate earlier). Errors are sticky on
 * ctx: after a failed op later ops return NULL, so `return wb_ok(ctx);` at the
 * end reports the first one.
 *
 * Loss modules (WB_KIND_LOSS), the contract heads rely on:
 *   forward(in = [pred, target, weight], n_in = 2 or 3, n_out = 1).
 *   pred and target share a shape (softmax cross entropy: pred [N, C], target
 *   [N] class indices as floats). weight is optional: n_in = 2, a NULL in[2]
 *   or a tensor of no elements mean "every element weighs 1"; otherwise it has
 *   the elementwise loss's shape. Heads fold their normalisation into it (the
 *   in-tree heads: 1 / number of positive anchors, mmdetection's avg_factor),
 *   so a summing loss comes out normalised.
 *   out[0]: the elementwise loss * weight, reduced as the module's `reduction`
 *   key says ("sum": one value; "mean": one value, the sum / number of
 *   elements; "none": pred's shape), times its `loss_weight` key. Declare both
 *   keys (WB_P_CHOICE "reduction" over none/sum/mean, WB_P_FLOAT
 *   "loss_weight"): retina_head reads the `reduction` of its loss sections,
 *   undoes a "mean" (multiplies by the element count, so the weights'
 *   1/avg_factor alone normalises) and refuses "none"; a loss without a
 *   `reduction` key must return the sum. Build it from SDK ops (the tape then
 *   gives the gradients of pred; target and weight get none). */
typedef struct wb_module_vtable {
    uint32_t struct_size;

    /* params are validated and defaulted (every key of the schema can be read
     * without checking); in[] are the specs of the inputs (backbone: one spec
     * "image" with 3 channels, stride 1; a loss: what its parent passed to
     * submodule_create, often none). On error return the status of
     * wb_error(ctx, ...) and leave *instance unset. */
    wb_status (*create)(wb_ctx *ctx, const wb_params *params,
                        const wb_feature_spec *in, int n_in, void **instance);

    /* Writes up to max_out specs (the core gives room for 16; a loss's
     * parent for 8), returns how many outputs forward produces: 1..max_out.
     * Channels >= 1; stride >= 1 for backbones and necks (feature maps), a
     * head's may be 0 (not spatial). Called once, right after create. */
    int (*output_specs)(void *instance, wb_feature_spec *out, int max_out);

    /* Optional. Creates the module's parameters and buffers through the host
     * (wb_param / wb_buffer), named relative to the module; the core owns,
     * checkpoints and (with load_from) overwrites them after this returns. */
    wb_status (*init_params)(void *instance, wb_ctx *ctx);

    /* in[] are the inputs in spec order; n_out is what output_specs returned.
     * Set every out[i]: shape[1] must be its spec's channels and, for a
     * [N, C, H, W] output with stride s > 0, H and W the input image's size
     * / s rounded either way (the core names the module and output on a
     * mismatch). Ops on ctx are recorded on this module's tape when gradients
     * are needed. wb_is_training(ctx) tells training from inference. */
    wb_status (*forward)(void *instance, wb_ctx *ctx,
                         wb_tensor *const *in, int n_in, wb_tensor **out, int n_out);

    /* Optional (needs WB_CAP_CUSTOM_BACKWARD): gradients of the inputs from
     * the gradients of the outputs. When NULL the core replays the tape. */
    wb_status (*backward)(void *instance, wb_ctx *ctx,
                          wb_tensor *const *dout, int n_out, wb_tensor **din, int n_in);

    /* Heads only: loss terms from the predictions of forward (preds are the
     * forward's outputs, n_preds of them, on the same ctx, right after it).
     * Write 1..WB_MAX_LOSS_TERMS terms and their count to *n_terms. truth
     * describes the same batch, in the same order. Targets are usually built
     * on host memory (wb_tensor_new + wb_map) and carry no gradient. */
    wb_status (*loss)(void *instance, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                      const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms);

    /* Heads only: decode predictions into detections, one per image
     * (dets has meta->batch entries; see wb_detections). Runs after an
     * inference forward; read the predictions with wb_map. */
    wb_status (*predict)(void *instance, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                         const wb_batch_truth *meta, wb_detections *dets);
    void (*release_detections)(void *instance, wb_detections *dets);

    /* Optional: a one-line human summary of the instance ("ResNet-50, frozen_stages=1"). */
    wb_status (*describe)(void *instance, char *buf, size_t size);

    void (*destroy)(void *instance);
} wb_module_vtable;

#ifdef __cplusplus
}
#endif
#endif
