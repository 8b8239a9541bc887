/* workbench SDK: the module contract for backbones, necks, heads and losses. */
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
    WB_KIND_DATASET = 5
} wb_module_kind;

/* Capability bits in wb_module_desc.caps. */
#define WB_CAP_CUSTOM_BACKWARD 0x1u /* backward() is hand-written; otherwise the tape is replayed */
#define WB_CAP_THREAD_SAFE_GET 0x2u /* datasets: get() may run on several threads at once */

/* Ground truth of one image, in the pixel space of the network input
 * (after transforms, before padding). Boxes are x1,y1,x2,y2. */
typedef struct wb_gt_image {
    uint32_t struct_size;
    int num_boxes;
    const float *boxes;     /* num_boxes * 4 */
    const int *labels;      /* 0..num_classes-1 */
    const uint8_t *ignore;  /* 1: crowd / difficult region, neither positive nor negative */
    int img_h, img_w;       /* valid (unpadded) input size */
    int ori_h, ori_w;       /* size of the original image */
    float scale_x, scale_y; /* input pixels per original pixel */
    int64_t image_id;
    /* input pixel = original pixel * scale + offset (letterbox borders) */
    float offset_x, offset_y;
} wb_gt_image;

typedef struct wb_batch_truth {
    uint32_t struct_size;
    int batch;
    int pad_h, pad_w; /* size of the batched input tensor */
    const wb_gt_image *images;
} wb_batch_truth;

/* One named loss term of a head; `value` is a scalar tensor built with SDK ops
 * on the head's context, so backward reaches the head's predictions. */
typedef struct wb_loss_term {
    char name[WB_NAME_MAX]; /* "loss_cls", "loss_bbox", ... */
    wb_tensor *value;
} wb_loss_term;
#define WB_MAX_LOSS_TERMS 8

/* Detections of one image in original-image pixels, owned by the plugin until
 * the core calls release_detections. */
typedef struct wb_detections {
    uint32_t struct_size;
    int num;
    float *boxes;  /* num * 4, x1,y1,x2,y2 */
    float *scores;
    int *labels;
} wb_detections;

/* A module instance is an opaque pointer owned by the plugin.
 * Calls happen in this order: create, output_specs, init_params, then any
 * number of forward/backward (and loss/predict for heads), then destroy. */
typedef struct wb_module_vtable {
    uint32_t struct_size;

    /* params are validated and defaulted; in[] are the specs of the inputs
     * (backbone: one spec "image" with 3 channels, stride 1). */
    wb_status (*create)(wb_ctx *ctx, const wb_params *params,
                        const wb_feature_spec *in, int n_in, void **instance);

    /* Writes up to max_out specs, returns how many outputs forward produces. */
    int (*output_specs)(void *instance, wb_feature_spec *out, int max_out);

    /* Creates the module's parameters and buffers through the host
     * (wb_param_create / wb_buffer_create). */
    wb_status (*init_params)(void *instance, wb_ctx *ctx);

    /* Outputs must match output_specs in number and channels. Ops on ctx are
     * recorded on this module's tape when gradients are needed. */
    wb_status (*forward)(void *instance, wb_ctx *ctx,
                         wb_tensor *const *in, int n_in, wb_tensor **out, int n_out);

    /* Optional (needs WB_CAP_CUSTOM_BACKWARD): gradients of the inputs from
     * the gradients of the outputs. When NULL the core replays the tape. */
    wb_status (*backward)(void *instance, wb_ctx *ctx,
                          wb_tensor *const *dout, int n_out, wb_tensor **din, int n_in);

    /* Heads only: loss terms from the predictions of forward (same ctx). */
    wb_status (*loss)(void *instance, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                      const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms);

    /* Heads only: decode predictions into detections, one per image. */
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
