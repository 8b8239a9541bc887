/* workbench SDK: the host API table. The core hands it to a plugin's entry
 * point and puts it in every wb_ctx; plugins reach the core only through it,
 * so a plugin links no core symbol. New functions are only ever appended. */
#ifndef WORKBENCH_HOST_H
#define WORKBENCH_HOST_H

#include "module.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- op parameters (each starts with struct_size so minors can append) ---- */
typedef struct wb_conv2d_params {
    uint32_t struct_size;
    int stride_h, stride_w;
    int pad_h, pad_w;
    int dilation_h, dilation_w;
    int groups;
} wb_conv2d_params;

typedef struct wb_pool2d_params {
    uint32_t struct_size;
    int kernel_h, kernel_w;
    int stride_h, stride_w;
    int pad_h, pad_w;
    int ceil_mode;          /* as torch: output size rounded up */
    int count_include_pad;  /* avg pool only */
} wb_pool2d_params;

/* The activation a fused op applies (ABI 1.4). */
#define WB_ACTIVATION_NONE 0
#define WB_ACTIVATION_RELU 1
#define WB_ACTIVATION_SILU 2

/* How wb_multiscale_roi_align picks each RoI's level (ABI 1.3). Level i of
 * the feats array is the i-th finest. TORCHVISION (MultiScaleRoIAlign's
 * LevelMapper): lvl = floor(canonical_level + log2(sqrt(area) /
 * canonical_scale) + 1e-6), clamped to the levels' own range, where a
 * level's number is -log2(spatial_scale) (1/4 -> 2): the scales must be
 * consecutive powers of 1/2. MMDET (SingleRoIExtractor): lvl =
 * floor(log2(sqrt(area) / finest_scale + 1e-6)) clamped to [0, n_levels-1].
 * area = (x2 - x1) * (y2 - y1) in input pixels. */
#define WB_ROI_LEVELS_TORCHVISION 0
#define WB_ROI_LEVELS_MMDET 1

typedef struct wb_roi_levels {
    uint32_t struct_size;
    int mapping;            /* WB_ROI_LEVELS_* */
    float canonical_scale;  /* TORCHVISION: 224 */
    int canonical_level;    /* TORCHVISION: 4 */
    float finest_scale;     /* MMDET: 56 */
    int use_roi_pool;       /* 0: roi_align per level, 1: roi_pool (sampling_ratio, aligned unused) */
} wb_roi_levels;

typedef enum wb_reduction { WB_REDUCE_NONE = 0, WB_REDUCE_SUM = 1, WB_REDUCE_MEAN = 2 } wb_reduction;
typedef enum wb_iou_mode { WB_IOU = 0, WB_GIOU = 1, WB_DIOU = 2, WB_CIOU = 3 } wb_iou_mode;

/* Parameter initializers, with torch.nn.init semantics. */
typedef enum wb_init_kind {
    WB_INIT_ZEROS = 0,
    WB_INIT_CONSTANT,        /* value */
    WB_INIT_NORMAL,          /* mean, std */
    WB_INIT_UNIFORM,         /* [a, b] */
    WB_INIT_KAIMING_UNIFORM, /* a = negative slope, fan_out selects fan mode */
    WB_INIT_KAIMING_NORMAL,
    WB_INIT_XAVIER_UNIFORM,  /* gain in a (0 means 1) */
    WB_INIT_XAVIER_NORMAL
} wb_init_kind;

typedef struct wb_init {
    wb_init_kind kind;
    float value;  /* CONSTANT */
    float mean;   /* NORMAL */
    float std;    /* NORMAL */
    float a, b;   /* UNIFORM bounds; KAIMING negative slope; XAVIER gain */
    int fan_out;  /* KAIMING: 1 = fan_out mode, 0 = fan_in */
} wb_init;

/* ---- custom ops: forward computed by the plugin, backward its own ----
 *
 * Compute the forward by hand (tensor_map) or with ops on wb_detach'ed
 * inputs, so that nothing of it is recorded and the custom op is the only
 * path from its outputs back to its inputs. When the ctx records (training,
 * some input requires a gradient), a custom op adds one node to the
 * module's tape; otherwise recording is a no-op that returns WB_OK. During
 * the module's backward the node's backward function runs once, after every
 * op that consumed its outputs, and only if at least one output received a
 * gradient. The name is copied; the input, output and saved arrays are read
 * only during the recording call.
 *
 * What backward receives:
 * - inputs: the handles given at record time (always valid for wb_info).
 *   Their DATA is readable only if the op kept it: record_custom keeps every
 *   input and output; record_custom_op keeps inputs with
 *   WB_CUSTOM_KEEP_INPUTS, outputs with WB_CUSTOM_KEEP_OUTPUTS, and always
 *   its `saved` tensors. Kept data stays allocated until the node's backward
 *   has run (or, if backward never runs, until the end of the iteration),
 *   even after the module released the tensor or its forward returned.
 *   Reading data that was not kept is a bug (the ASan build catches it).
 * - grad_outputs[j]: never NULL; an output that received no gradient gets
 *   zeros. Read-only, valid only during the call.
 * - grad_inputs[i]: NULL on entry. Set it to a tensor of input i's shape (a
 *   new one, e.g. from tensor_new or an op) or leave it NULL for "no
 *   gradient" (zero). The core adds it into input i's gradient (inputs that
 *   do not require a gradient ignore it), then releases every tensor the
 *   backward made. A gradient of another shape is an error naming the op.
 * - state: see each recording function.
 * What backward may call: any op of this table (nothing is recorded while
 * a backward runs: no double backward; is_training reads 0 meanwhile),
 * tensor_new / tensor_from_host / tensor_map / tensor_unmap / tensor_item /
 * tensor_info / tensor_release, set_error, log, rng_uniform and the box
 * utilities. It must not create parameters, buffers or sub-modules, or
 * record custom ops. Returning a status other than WB_OK (or setting an
 * error) stops the backward with that message. */

/* Backward of record_custom. */
typedef wb_status (*wb_custom_backward_fn)(wb_ctx *ctx, void *state,
                                           wb_tensor *const *inputs, int n_in,
                                           wb_tensor *const *grad_outputs, int n_out,
                                           wb_tensor **grad_inputs);

/* Backward of record_custom_op (ABI 1.2): also gets the saved tensors. */
typedef wb_status (*wb_custom_op_backward_fn)(wb_ctx *ctx, void *state,
                                              wb_tensor *const *inputs, int n_in,
                                              wb_tensor *const *saved, int n_saved,
                                              wb_tensor *const *grad_outputs, int n_out,
                                              wb_tensor **grad_inputs);

/* What record_custom_op keeps readable for backward besides `saved`. */
#define WB_CUSTOM_KEEP_INPUTS 1u
#define WB_CUSTOM_KEEP_OUTPUTS 2u

typedef struct wb_custom_op {
    uint32_t struct_size;          /* sizeof(wb_custom_op) */
    const char *name;              /* for messages: "my_loss.quality_focal" */
    wb_tensor *const *inputs;      /* gradients flow to these */
    int n_in;
    wb_tensor *const *outputs;     /* what forward made; their gradients reach backward */
    int n_out;
    /* Extra tensors backward reads (intermediates of the forward, targets):
     * held until backward has run, no gradient flows to them. May be NULL. */
    wb_tensor *const *saved;
    int n_saved;
    uint32_t keep;                 /* WB_CUSTOM_KEEP_* */
    wb_custom_op_backward_fn backward;
    /* state_size > 0: the core copies state_size bytes of *state when the op
     * is recorded and passes backward a pointer to its copy, which lives
     * until the end of the iteration and is never freed by the plugin (plain
     * bytes: a pointer inside must outlive the iteration itself).
     * state_size == 0: state is passed through as is; the plugin keeps it
     * valid until the iteration ends (e.g. its module instance). */
    const void *state;
    size_t state_size;
} wb_custom_op;

struct wb_host_api {
    uint32_t struct_size;
    uint32_t abi_major, abi_minor;

    /* ---- errors and logging ---- */
    wb_status (*set_error)(wb_ctx *ctx, wb_status status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    wb_status (*status)(wb_ctx *ctx); /* the sticky error of ctx, WB_OK if none */
    void (*log)(wb_ctx *ctx, wb_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* ---- validated parameters (types are guaranteed by the schema) ---- */
    int (*param_has)(const wb_params *p, const char *key);
    int64_t (*param_int)(const wb_params *p, const char *key);
    double (*param_float)(const wb_params *p, const char *key);
    int (*param_bool)(const wb_params *p, const char *key);
    const char *(*param_string)(const wb_params *p, const char *key);
    int (*param_list_len)(const wb_params *p, const char *key);
    int64_t (*param_int_at)(const wb_params *p, const char *key, int i);
    double (*param_float_at)(const wb_params *p, const char *key, int i);
    const char *(*param_string_at)(const wb_params *p, const char *key, int i);
    const wb_params *(*param_section)(const wb_params *p, const char *key);

    /* ---- tensors ---- */
    void (*tensor_info)(const wb_tensor *t, wb_tensor_info *info);
    /* New zero-filled tensor in the per-iteration compute arena. */
    wb_tensor *(*tensor_new)(wb_ctx *ctx, int ndim, const int64_t *shape);
    /* New tensor holding a copy of host data (numel floats). */
    wb_tensor *(*tensor_from_host)(wb_ctx *ctx, int ndim, const int64_t *shape, const float *data);
    /* Host view of the data, logical NCHW. After writing, call tensor_unmap. */
    float *(*tensor_map)(wb_ctx *ctx, wb_tensor *t);
    wb_status (*tensor_unmap)(wb_ctx *ctx, wb_tensor *t);
    float (*tensor_item)(wb_ctx *ctx, wb_tensor *t); /* value of a one-element tensor */

    /* ---- parameters and buffers (persistent; named relative to the module,
     *      torchvision-style: "layer1.0.conv1.weight") ---- */
    wb_tensor *(*param_create)(wb_ctx *ctx, const char *name, int ndim, const int64_t *shape,
                               const wb_init *init, int trainable);
    wb_tensor *(*buffer_create)(wb_ctx *ctx, const char *name, int ndim, const int64_t *shape,
                                const wb_init *init);
    float (*rng_uniform)(wb_ctx *ctx); /* the module's own stream, [0, 1) */

    /* ---- ops with forward and backward (recorded on the ctx tape) ---- */
    wb_tensor *(*conv2d)(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b,
                         const wb_conv2d_params *p);
    /* training: batch statistics, running stats updated with momentum;
     * otherwise running stats are used. gamma/beta may be NULL (1 / 0). */
    wb_tensor *(*batch_norm)(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta,
                             wb_tensor *running_mean, wb_tensor *running_var,
                             int training, float momentum, float eps);
    wb_tensor *(*relu)(wb_ctx *ctx, wb_tensor *x);
    wb_tensor *(*leaky_relu)(wb_ctx *ctx, wb_tensor *x, float negative_slope);
    wb_tensor *(*silu)(wb_ctx *ctx, wb_tensor *x);
    wb_tensor *(*sigmoid)(wb_ctx *ctx, wb_tensor *x);
    wb_tensor *(*hardswish)(wb_ctx *ctx, wb_tensor *x);
    wb_tensor *(*max_pool2d)(wb_ctx *ctx, wb_tensor *x, const wb_pool2d_params *p);
    wb_tensor *(*avg_pool2d)(wb_ctx *ctx, wb_tensor *x, const wb_pool2d_params *p);
    wb_tensor *(*global_avg_pool)(wb_ctx *ctx, wb_tensor *x);       /* -> [N,C,1,1] */
    /* out_h/out_w > 0: to that size (torch 'nearest'); else by integer factor. */
    wb_tensor *(*upsample_nearest)(wb_ctx *ctx, wb_tensor *x, int factor, int out_h, int out_w);
    wb_tensor *(*resize_bilinear)(wb_ctx *ctx, wb_tensor *x, int out_h, int out_w, int align_corners);
    wb_tensor *(*add)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);     /* numpy broadcasting */
    wb_tensor *(*mul)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);     /* numpy broadcasting */
    wb_tensor *(*scale)(wb_ctx *ctx, wb_tensor *x, float s);
    wb_tensor *(*concat)(wb_ctx *ctx, wb_tensor *const *ts, int n, int axis);
    wb_status (*split)(wb_ctx *ctx, wb_tensor *x, int axis, const int64_t *sizes, int n,
                       wb_tensor **out);
    wb_tensor *(*slice)(wb_ctx *ctx, wb_tensor *x, int axis, int64_t start, int64_t end);
    wb_tensor *(*reshape)(wb_ctx *ctx, wb_tensor *x, int ndim, const int64_t *shape); /* one -1 allowed */
    wb_tensor *(*permute)(wb_ctx *ctx, wb_tensor *x, const int *perm);
    wb_tensor *(*matmul)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b, int trans_a, int trans_b); /* 2-D */
    wb_tensor *(*linear)(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b); /* x[N,I] w[O,I] b[O] */
    wb_tensor *(*sum)(wb_ctx *ctx, wb_tensor *x, int axis, int keepdim);  /* axis -1: all -> scalar */
    wb_tensor *(*mean)(wb_ctx *ctx, wb_tensor *x, int axis, int keepdim);

    /* ---- loss primitives: weight may be NULL, else same shape as the
     *      elementwise loss; NONE returns the elementwise loss ---- */
    wb_tensor *(*sigmoid_focal_loss)(wb_ctx *ctx, wb_tensor *logits, wb_tensor *target,
                                     wb_tensor *weight, float gamma, float alpha, wb_reduction r);
    wb_tensor *(*bce_with_logits)(wb_ctx *ctx, wb_tensor *logits, wb_tensor *target,
                                  wb_tensor *weight, wb_reduction r);
    /* logits [N,C]; labels [N] holding class indices as floats, -1 = ignored. */
    wb_tensor *(*softmax_cross_entropy)(wb_ctx *ctx, wb_tensor *logits, wb_tensor *labels,
                                        wb_tensor *weight, wb_reduction r);
    wb_tensor *(*smooth_l1_loss)(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target,
                                 wb_tensor *weight, float beta, wb_reduction r);
    wb_tensor *(*l1_loss)(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target, wb_tensor *weight,
                          wb_reduction r);
    /* pred, target [N,4] x1y1x2y2 -> loss [N] (1 - IoU, or the G/D/C variant). */
    wb_tensor *(*iou_loss)(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target, wb_tensor *weight,
                           wb_iou_mode mode, float eps, wb_reduction r);

    /* ---- custom ops with their own backward (see "custom ops" above) ----
     * Keeps every input and output readable for backward; `state` is passed
     * through as is and owned by the plugin, which keeps it valid until the
     * iteration ends (the core never frees it). ABI 1.2 adds record_custom_op
     * with saved tensors, a keep choice and a state copy. */
    wb_status (*record_custom)(wb_ctx *ctx, const char *name,
                               wb_tensor *const *inputs, int n_in,
                               wb_tensor *const *outputs, int n_out,
                               wb_custom_backward_fn backward, void *state);

    /* ---- sub-modules: a plugin instantiates another module (a loss named in
     *      its config) from a WB_PARAM_MODULE section; the child's ops are
     *      recorded on the parent's tape ---- */
    wb_submodule *(*submodule_create)(wb_ctx *ctx, const wb_params *section, const char *name,
                                      const wb_feature_spec *in, int n_in);
    wb_status (*submodule_forward)(wb_ctx *ctx, wb_submodule *m,
                                   wb_tensor *const *in, int n_in, wb_tensor **out, int n_out);

    /* ---- box utilities on host memory (no gradient), boxes x1,y1,x2,y2 ---- */
    void (*box_iou)(const float *a, int na, const float *b, int nb, float *out /* na*nb */);
    void (*box_encode)(const float *anchors, const float *gt, int n,
                       const float means[4], const float stds[4], float *deltas);
    /* max_ratio bounds |dw|,|dh| (0 = log(1000/16)); clip_h/clip_w > 0 clip to the image. */
    void (*box_decode)(const float *anchors, const float *deltas, int n,
                       const float means[4], const float stds[4], float max_ratio,
                       int clip_h, int clip_w, float *boxes);
    /* Kept indices, by descending score, written to keep; returns how many.
     * labels non-NULL: boxes of different labels never suppress each other. */
    int (*nms)(const float *boxes, const float *scores, const int *labels, int n,
               float iou_threshold, int *keep);
    /* mmdetection AnchorGenerator: base anchors of one level
     * (n_scales * n_ratios rows, ratio-major like mmdet), centered at offset*stride. */
    void (*base_anchors)(float base_size, const float *scales, int n_scales,
                         const float *ratios, int n_ratios, float center_offset, float *out);
    /* All anchors of a feat_h x feat_w level: row (y*feat_w + x)*n_base + a. */
    void (*grid_anchors)(const float *base, int n_base, int feat_h, int feat_w,
                         int stride, float *out);

    /* ---- run mode ---- */
    int (*is_training)(wb_ctx *ctx); /* 1 during a training forward (BN uses batch statistics) */

    /* ---- memory (ABI 1.1) ---- */
    /* "This module will not read t again." Its memory returns to the pool as
     * soon as no gradient computation needs it either. Optional: when forward
     * returns, everything the module made is released except its outputs;
     * calling it earlier (after the last use of an intermediate) lowers the
     * peak, most of all at inference. Tensors the module did not make (its
     * inputs, parameters) are left alone. Reading t afterwards is a bug. */
    void (*tensor_release)(wb_ctx *ctx, wb_tensor *t);

    /* ---- elementwise ops (ABI 1.2), with backward unless said otherwise.
     *      Binary ones broadcast like numpy (as add and mul). Gradient
     *      conventions are torch 1.13's. exp_, log_ and pow_ end in '_' because
     *      `log` is the logging entry and <tgmath.h> makes exp, log and pow
     *      macros; the ops.h wrappers are wb_exp, wb_ln, wb_pow. ---- */
    wb_tensor *(*sub)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
    wb_tensor *(*div)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);  /* IEEE: x / 0 = +-inf or NaN */
    wb_tensor *(*neg)(wb_ctx *ctx, wb_tensor *x);
    wb_tensor *(*exp_)(wb_ctx *ctx, wb_tensor *x);
    wb_tensor *(*log_)(wb_ctx *ctx, wb_tensor *x);                /* log(0) = -inf, log(x < 0) = NaN */
    /* x ** exponent; derivative exponent * x ** (exponent - 1), 0 for exponent 0. */
    wb_tensor *(*pow_)(wb_ctx *ctx, wb_tensor *x, float exponent);
    wb_tensor *(*abs)(wb_ctx *ctx, wb_tensor *x);                /* abs'(0) = 0 */
    /* min(max(x, lo), hi): lo > hi gives hi everywhere. A NaN bound means no
     * bound on that side (clamp(x, 0, NAN) is relu-like); +-INFINITY works
     * too. The gradient passes where lo <= x <= hi (bounds included). */
    wb_tensor *(*clamp)(wb_ctx *ctx, wb_tensor *x, float lo, float hi);
    /* NaN propagates; on a tie (a == b) each operand gets half the gradient. */
    wb_tensor *(*minimum)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
    wb_tensor *(*maximum)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
    /* Comparisons: 1.0 where true, 0.0 where false (NaN compares false,
     * except ne); no gradient flows through them. */
    wb_tensor *(*gt)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
    wb_tensor *(*ge)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
    wb_tensor *(*lt)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
    wb_tensor *(*le)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
    wb_tensor *(*eq)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
    wb_tensor *(*ne)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
    /* cond != 0 (NaN included) ? a : b, all three broadcast together. The
     * gradient goes to a where cond holds and to b elsewhere; none to cond. */
    wb_tensor *(*where)(wb_ctx *ctx, wb_tensor *cond, wb_tensor *a, wb_tensor *b);
    /* Stop-gradient: the same values (sharing x's data: do not write to it)
     * with no tape edge back to x. */
    wb_tensor *(*detach)(wb_ctx *ctx, wb_tensor *x);
    wb_tensor *(*add_scalar)(wb_ctx *ctx, wb_tensor *x, float s); /* x + s */

    /* ---- custom op with saved tensors (ABI 1.2; see "custom ops" above).
     *      op->struct_size must be at least this minor's sizeof(wb_custom_op). */
    wb_status (*record_custom_op)(wb_ctx *ctx, const wb_custom_op *op);

    /* ---- region and index ops (ABI 1.3), with backward ----
     * rois [K, 5]: batch index (integral), x1, y1, x2, y2 in input pixels;
     * the RoIs of every image in one tensor, any number per image (K may
     * be 0). Gradients flow to the features only, never to rois. */
    /* torchvision.ops.roi_align: -> [K, C, out_h, out_w]. sampling_ratio 0
     * = adaptive (ceil(roi size / out size) points per bin); aligned shifts
     * by half a pixel (aligned = False is the legacy Mask R-CNN rule). */
    wb_tensor *(*roi_align)(wb_ctx *ctx, wb_tensor *feat, wb_tensor *rois, int out_h, int out_w,
                            float spatial_scale, int sampling_ratio, int aligned);
    /* torchvision.ops.roi_pool (max per bin; an empty bin gives 0). */
    wb_tensor *(*roi_pool)(wb_ctx *ctx, wb_tensor *feat, wb_tensor *rois, int out_h, int out_w,
                           float spatial_scale);
    /* Each RoI pooled from the level lv picks (see wb_roi_levels) ->
     * [K, C, out_h, out_w] in the order of rois. feats [N, C, H_i, W_i]. */
    wb_tensor *(*multiscale_roi_align)(wb_ctx *ctx, wb_tensor *const *feats, int n_levels,
                                       const float *spatial_scales, wb_tensor *rois, int out_h,
                                       int out_w, int sampling_ratio, int aligned,
                                       const wb_roi_levels *lv);
    /* torch.index_select: index 1-D, integral values stored as floats,
     * repeats allowed; the gradient is scatter-added into x's. */
    wb_tensor *(*index_select)(wb_ctx *ctx, wb_tensor *x, int axis, wb_tensor *index);
    /* torch.nn.functional.group_norm on [N, C, ...]; gamma/beta [C] or NULL (1 / 0). */
    wb_tensor *(*group_norm)(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta,
                             int groups, float eps);
    /* relu6(x + 3) / 6; the gradient is 1/6 on the open interval (-3, 3), as torch. */
    wb_tensor *(*hardsigmoid)(wb_ctx *ctx, wb_tensor *x);

    /* ---- heads as sub-modules (ABI 1.3): a head may own other heads (a
     *      two-stage head owns its RPN) and call them as the core calls a
     *      model's head, on its own context and tape. Their outputs' specs,
     *      as output_specs gave them (returns the count; copies up to max). */
    int (*submodule_output_specs)(wb_submodule *m, wb_feature_spec *out, int max_out);
    /* The child's loss() on the parent's context: its ops are recorded on the
     * parent's tape, so its terms' gradients reach the child's predictions.
     * The parent puts the terms into its own (see module.h). */
    wb_status (*submodule_loss)(wb_ctx *ctx, wb_submodule *m, wb_tensor *const *preds, int n_preds,
                                const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms);
    /* The child's predict(): dets (meta->batch entries) are zeroed first and
     * then the child's until submodule_release_detections. May follow a
     * training forward (proposals during training: wb_is_training reads 1).
     * The parent chooses meta's geometry: scale 1 and no offset with
     * ori = img size give boxes in input pixels. */
    wb_status (*submodule_predict)(wb_ctx *ctx, wb_submodule *m, wb_tensor *const *preds, int n_preds,
                                   const wb_batch_truth *meta, wb_detections *dets);
    void (*submodule_release_detections)(wb_submodule *m, wb_detections *dets, int n);

    /* ---- box utilities on tensors (ABI 1.4): the host-array utilities
     *      above, same formulas, run by the backend's kernels, so on a GPU a
     *      head decodes, suppresses and picks (index_select of the kept
     *      rows) without its candidates leaving the device. Boxes are
     *      [N, 4] x1, y1, x2, y2; no gradient flows through any of them. */
    /* [Na, Nb] IoU as box_iou. */
    wb_tensor *(*box_iou_tensor)(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
    /* [N, 4] deltas of gt [N, 4] from anchors [N, 4], as box_encode. */
    wb_tensor *(*box_encode_tensor)(wb_ctx *ctx, wb_tensor *anchors, wb_tensor *gt, const float means[4],
                                    const float stds[4]);
    /* [N, 4] boxes, as box_decode (max_ratio 0 = log(1000/16); clip_h and
     * clip_w > 0 clip to the image). */
    wb_tensor *(*box_decode_tensor)(wb_ctx *ctx, wb_tensor *anchors, wb_tensor *deltas, const float means[4],
                                    const float stds[4], float max_ratio, int clip_h, int clip_w);
    /* [feat_h * feat_w * n_base, 4] anchors of one level from host base
     * anchors (base_anchors' output), rows as grid_anchors. */
    wb_tensor *(*grid_anchors_tensor)(wb_ctx *ctx, const float *base, int n_base, int feat_h, int feat_w,
                                      int stride);
    /* The kept indices as a 1-D tensor of integral floats (index_select's
     * index), by descending score (ties: lower index first; NaN scores
     * last), exactly nms's list. scores [N]; labels [N] of integral floats,
     * or NULL: boxes of different labels never suppress each other. At most
     * 2^24 - 1 boxes. Its length is the kept count, so this call waits for
     * the device. */
    wb_tensor *(*nms_tensor)(wb_ctx *ctx, wb_tensor *boxes, wb_tensor *scores, wb_tensor *labels,
                             float iou_threshold);

    /* ---- fused ops (ABI 1.4) ---- */
    /* act(conv2d(x, w, b)) with act a WB_ACTIVATION_*: the values and
     * gradients of conv2d followed by the activation op. Where no backward
     * follows (inference) a backend may apply act inside the convolution
     * (the CPU does, for ReLU and SiLU), saving a pass over the output. */
    wb_tensor *(*conv2d_act)(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b,
                             const wb_conv2d_params *p, int act);
    /* act(batch_norm(...)): the values and gradients of batch_norm followed
     * by the activation op. In training with batch statistics a backend may
     * run both in one pass each way (the CPU does, for ReLU and SiLU). */
    wb_tensor *(*batch_norm_act)(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta,
                                 wb_tensor *running_mean, wb_tensor *running_var, int training, float momentum,
                                 float eps, int act);

    /* ---- fused ops (ABI 1.5) ---- */
    /* act(group_norm(x, gamma, beta, groups, eps)): the values and gradients
     * of group_norm followed by the activation op. A backend may run both in
     * one pass each way (the CPU does, for ReLU: FCOS's towers). */
    wb_tensor *(*group_norm_act)(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, int groups,
                                 float eps, int act);

    /* ---- fused ops (ABI 1.6) ---- */
    /* act(conv2d(x, w, b) + residual), residual of the conv output's shape
     * (a ResNet block's last conv and its shortcut): the values and
     * gradients of conv2d, add and the activation op. Where no backward
     * follows a backend may add the residual and apply act inside the
     * convolution (the CPU does, in its direct JIT kernels), saving two
     * passes over the output. */
    wb_tensor *(*conv2d_add_act)(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p,
                                 wb_tensor *residual, int act);
};

#ifdef __cplusplus
}
#endif
#endif
