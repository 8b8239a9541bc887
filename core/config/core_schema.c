/* The core's schema as data. Names follow mmdetection where it has one. */
#include "core_schema.h"

#include <string.h>
#include <workbench/module.h>

#define BIG 1e9 /* "no practical upper bound" for counts of epochs / iterations */

/* cuda is cuda:0; a node has at most 16 GPUs (DGX-2, HGX-2). */
static const char *const backend_choices[] = { "cpu", "cuda", "auto", "cuda:0", "cuda:1", "cuda:2", "cuda:3",
                                               "cuda:4", "cuda:5", "cuda:6", "cuda:7", "cuda:8", "cuda:9", "cuda:10",
                                               "cuda:11", "cuda:12", "cuda:13", "cuda:14", "cuda:15", NULL };
static const char *const optimizer_choices[] = { "sgd", "adamw", NULL };
static const char *const policy_choices[] = { "step", "cosine", "poly", "linear", "onecycle", "constant", NULL };
static const char *const warmup_choices[] = { "none", "linear", "constant", "exp", NULL };
static const char *const ema_styles[] = { "mmdet", "yolov5", NULL };
static const char *const metric_choices[] = { "bbox", "mAP", "proposal", NULL };
static const char *const bad_sample_choices[] = { "skip", "fail", NULL };
static const char *const nonfinite_choices[] = { "refuse", "allow", NULL };
static const char *const amp_choices[] = { "none", "bf16", "fp16", NULL };

static const wb_param_schema root_params[] = {
    WB_P_STRING("work_dir", "\"\"", "where logs, checkpoints and the effective config go; "
                                    "empty: work_dirs/NAME, NAME being the experiment file name without .conf"),
    WB_P_INT("seed", "0", 0, 2147483647, "seed of every random stream (init, data order, transforms)"),
    WB_P_CHOICE("backend", "\"cpu\"", backend_choices, "compute backend: cpu; cuda (= cuda:0) or cuda:N, the "
                "GPU of that number (the CUDA module libwb_backend_cuda.so, exit 1 without a device); auto: cuda:0 "
                "when a device answers, else cpu (the log says why)"),
    WB_P_CHOICE("amp", "\"none\"", amp_choices, "mixed precision: bf16 runs convolutions and matrix "
                "products with bfloat16 inputs and fp32 accumulation (oneDNN; needs AVX512_BF16 or AMX), weights, "
                "batch norm, activations, losses and the optimizer in fp32, as torch.autocast on the CPU; fp16 "
                "(backend = \"cuda\" only) computes in half precision with fp32 master weights and loss scaling "
                "(train.loss_scale), as torch.cuda.amp"),
    WB_P_BOOL("tf32", "false", "backend = cuda: TF32 tensor cores for the fp32 convolutions and matrix products "
              "(inputs rounded to 10-bit significands, fp32 accumulation: ~1e-3 relative error, several times the "
              "speed from Ampere on), amp's fp32 ones included; false: fp32 within rounding of the CPU's"),
    WB_P_INT("threads", "0", 0, WB_MAX_THREADS, "CPU threads; 0: all cores (WB_THREADS and --threads override "
                                                "it); oneDNN aborts with many more than 1024"),
    WB_P_STRING_LIST("plugin_dirs", "[]", "directories searched for plugins before the default places"),
    WB_P_STRING("load_from", "\"\"", "weights (safetensors) to initialise the model from; empty: none"),
    WB_P_STRING("resume_from", "\"\"", "checkpoint to resume training from (weights and trainer state); "
                                       "--resume overrides it"),
    WB_P_CHOICE("load_nonfinite", "\"refuse\"", nonfinite_choices,
                "weights holding NaN or Inf in load_from, resume_from or an eval/infer checkpoint: refuse the "
                "file naming the tensor, or allow loading them"),
    WB_P_BOOL("autoanchor", "true", "before training, check a head's pixel anchors (anchors, anchor_t) against "
                                    "the training boxes as YOLOv5 does and replace them when k-means does better"),
    WB_PARAM_END,
};

static const wb_param_schema model_params[] = {
    WB_P_MODULE("backbone", WB_KIND_BACKBONE, NULL, "feature extractor: images -> multi-scale features"),
    { sizeof(wb_param_schema), "neck", WB_PARAM_MODULE, "optional feature fusion (FPN, ...) between backbone and head",
      0, NULL, 0, 0.0, 0.0, NULL, WB_KIND_NECK },
    WB_P_MODULE("head", WB_KIND_HEAD, NULL, "detection head: features -> predictions, losses, detections"),
    WB_PARAM_END,
};

static const wb_param_schema split_params[] = {
    WB_P_MODULE("dataset", WB_KIND_DATASET, NULL, "where the images and boxes come from"),
    { sizeof(wb_param_schema), "pipeline", WB_PARAM_TRANSFORM_LIST,
      "transforms run on every sample, in order: ( { type = \"resize\"; ... }, ... )", 0, "()", 0, 0.0, 0.0,
      NULL, 0 },
    WB_P_BOOL("rect", "false", "rectangular batches (YOLOv5 --rect, MMYOLO BatchShapePolicy): images sorted by "
              "aspect ratio form the batches, each letterboxed to its own shape (from the pipeline's letterbox "
              "size and stride); training shuffles the batches' order, not their images"),
    WB_P_FLOAT("rect_pad", "0.0", 0.0, 4.0, "rect: extra padding in strides added before rounding up (YOLOv5: 0 "
               "for training, 0.5 for validation)"),
    WB_PARAM_END,
};

static const wb_config_section data_sections[] = {
    { "train", "training split", WB_SECTION_REQUIRED, split_params, NULL },
    { "val", "split evaluated during training (every evaluation.interval)", WB_SECTION_OPTIONAL, split_params, NULL },
    { "test", "split used by eval and infer", WB_SECTION_OPTIONAL, split_params, NULL },
    { NULL, NULL, WB_SECTION_OPTIONAL, NULL, NULL },
};

static const wb_param_schema data_params[] = {
    WB_P_INT("batch_size", "2", 1, 4096, "images per iteration"),
    WB_P_STRING("data_root", "\"\"", "folder every split's dataset resolves its relative paths against "
                                      "(given to each dataset section that has no data_root of its own)"),
    WB_P_INT("workers", "2", 0, 256, "loader threads; 0: load on the training thread"),
    WB_P_INT("size_divisor", "32", 1, 1024, "batched images are padded to a multiple of this"),
    WB_P_CHOICE("on_bad_sample", "\"skip\"", bad_sample_choices,
                "an image that cannot be loaded: skip it with a warning (listed in work_dir/bad_samples.txt) "
                "or fail the run with its message"),
    WB_P_INT("max_image_pixels", "67108864", 1, 268435456,
             "largest image (width x height as stored) the loader decodes; larger ones are bad samples. "
             "Bounds each loader thread's memory (about 17 bytes per pixel when the pipeline does not shrink)"),
    WB_P_INT("max_boxes_per_image", "1000", 1, 1000000,
             "images with more boxes are bad samples (the assigners' memory grows with anchors x boxes)"),
    WB_P_INT("close_mosaic", "0", 0, BIG, "train the last N epochs without mosaic and mixup (MMYOLO's "
             "close_mosaic_epochs): mosaic becomes a letterbox to its tile size, mixup goes; needs by_epoch"),
    WB_P_BOOL("image_weights", "false", "training draws images with replacement, weighted by the sum over their "
              "labels of 1 / the class's frequency (YOLOv5 --image-weights), from the run's seed and epoch"),
    WB_P_BOOL("single_cls", "false", "train and evaluate every split as one class (YOLOv5 --single-cls): every "
              "label becomes 0, named \"item\"; model.head.num_classes must be 1"),
    WB_PARAM_END,
};

static const wb_param_schema optimizer_params[] = {
    WB_P_CHOICE("type", "\"sgd\"", optimizer_choices, "update rule (torch.optim semantics)"),
    WB_P_FLOAT("lr", "0.01", 0.0, 10.0, "base learning rate"),
    WB_P_FLOAT("momentum", "0.9", 0.0, 1.0, "sgd momentum"),
    WB_P_FLOAT("weight_decay", "0.0001", 0.0, 1.0, "L2 penalty (sgd) or decoupled decay (adamw)"),
    WB_P_BOOL("nesterov", "false", "sgd: Nesterov momentum"),
    WB_P_FLOAT_LIST("betas", "[0.9, 0.999]", 0.0, 1.0, "adamw: decay of the first and second moment"),
    WB_P_FLOAT("eps", "1e-08", 0.0, 1.0, "adamw: term added to the denominator"),
    WB_P_FLOAT("grad_clip", "0.0", 0.0, BIG, "largest global L2 norm of the gradients; 0: no clipping"),
    WB_P_INT("accumulate", "1", 1, 4096, "step every K iterations on the mean of their gradients (loss / K)"),
    WB_P_INT("nbs", "0", 0, 4096, "nominal batch size (YOLOv5): step every max(round(nbs / batch_size), 1) "
             "iterations (ramped up from 1 over the warmup) on the sum of their gradients, and scale weight_decay "
             "by batch_size x that / nbs; as YOLOv5, gradients of an epoch's last iterations that fill no step are "
             "dropped; 0: off (accumulate applies)"),
    WB_P_STRING_LIST("freeze", "[]", "dotted-name prefixes of parameters not trained (no gradient, no update; "
                     "their norm layers still update running statistics), as YOLOv5's --freeze: --freeze 10 is "
                     "[\"backbone\"], --freeze 2 is [\"backbone.stem\", \"backbone.stage1.0\"]"),
    WB_PARAM_END,
};

static const wb_param_schema custom_rule_params[] = {
    WB_P_REQUIRED("pattern", WB_PARAM_STRING, "substring of the dotted parameter name, or a glob with * ? []"),
    WB_P_FLOAT("lr_mult", "1.0", 0.0, BIG, "learning-rate multiplier of the matching parameters"),
    WB_P_FLOAT("decay_mult", "1.0", 0.0, BIG, "weight-decay multiplier of the matching parameters"),
    WB_PARAM_END,
};

static const wb_config_section paramwise_sections[] = {
    { "custom", "rules by parameter name; the longest matching pattern wins and norm/bias multipliers are then "
      "not applied (mmcv's custom_keys)", WB_SECTION_LIST, custom_rule_params, NULL },
    { NULL, NULL, WB_SECTION_OPTIONAL, NULL, NULL },
};

static const wb_param_schema paramwise_params[] = {
    WB_P_FLOAT("norm_decay_mult", "0.0", 0.0, BIG, "weight-decay multiplier of norm layers' weight and bias"),
    WB_P_FLOAT("bias_decay_mult", "0.0", 0.0, BIG, "weight-decay multiplier of the other layers' biases"),
    WB_PARAM_END,
};

static const wb_config_section optimizer_sections[] = {
    { "paramwise", "parameter groups: lr and weight-decay multipliers by parameter (mmcv's paramwise_cfg)",
      WB_SECTION_DEFAULTED, paramwise_params, paramwise_sections },
    { NULL, NULL, WB_SECTION_OPTIONAL, NULL, NULL },
};

static const wb_param_schema schedule_params[] = {
    WB_P_BOOL("by_epoch", "true", "count max_epochs and milestones in epochs (else in iterations)"),
    WB_P_INT("max_epochs", "12", 0, BIG, "training length when by_epoch = true"),
    WB_P_INT("max_iters", "0", 0, BIG, "training length when by_epoch = false"),
    WB_P_CHOICE("policy", "\"step\"", policy_choices, "learning-rate policy after warmup"),
    WB_P_INT_LIST("milestones", "[8, 11]", 0, BIG, "step policy: epochs (or iterations) where lr *= gamma"),
    WB_P_FLOAT("gamma", "0.1", 0.0, 1.0, "step policy: factor applied at each milestone"),
    WB_P_CHOICE("warmup", "\"linear\"", warmup_choices, "warmup shape at the start of training"),
    WB_P_INT("warmup_iters", "500", 0, BIG, "warmup length in iterations"),
    WB_P_FLOAT("warmup_ratio", "0.001", 0.0, 1.0, "lr at the first iteration, as a fraction of lr"),
    WB_P_FLOAT("warmup_epochs", "0.0", 0.0, BIG, "warmup length in epochs (YOLOv5): the warmup lasts "
               "max(round(warmup_epochs x iterations per epoch), warmup_iters) iterations; 0: warmup_iters"),
    WB_P_FLOAT("warmup_momentum", "-1.0", -1.0, 1.0, "sgd momentum at the first iteration, rising linearly to "
               "optimizer.momentum over the warmup (YOLOv5); negative: no momentum warmup"),
    WB_P_FLOAT("warmup_bias_lr", "-1.0", -1.0, 10.0, "lr of the parameters named *.bias at the first iteration, "
               "going linearly to the policy's lr over the warmup while the others rise from warmup_ratio x lr "
               "(YOLOv5: 0.1, with warmup_ratio 0); negative: biases warm up as the rest"),
    WB_P_BOOL("lr_by_epoch", "true", "by-epoch runs: the policy advances once per epoch (false: every iteration)"),
    WB_P_FLOAT("min_lr", "0.0", 0.0, 10.0, "cosine, poly: final lr"),
    WB_P_FLOAT("min_lr_ratio", "-1.0", -1.0, 1.0, "cosine, poly: final lr as a fraction of lr; negative: use min_lr"),
    WB_P_FLOAT("power", "1.0", 0.0, 100.0, "poly: exponent"),
    WB_P_FLOAT("lrf", "0.01", 0.0, 1.0, "linear, onecycle (YOLOv5): final lr as a fraction of lr"),
    WB_PARAM_END,
};

static const wb_param_schema checkpoint_params[] = {
    WB_P_INT("interval", "-1", -1, BIG,
             "save every N epochs (iterations when by_epoch = false); 0: only the last; "
             "-1: every epoch, or every max_iters / 10 iterations"),
    WB_P_INT("keep", "3", 0, BIG, "how many recent checkpoints to keep; 0: all"),
    WB_P_STRING("save_best", "\"\"", "validation metric (e.g. bbox_mAP, mAP) whose highest value keeps "
                                     "best_<metric>_epoch_N.safetensors; empty: off"),
    WB_PARAM_END,
};

static const wb_param_schema log_params[] = {
    WB_P_INT("interval", "50", 1, BIG, "iterations between log lines"),
    WB_P_BOOL("tensorboard", "true", "also write TensorBoard event files to work_dir/tensorboard/ (scalars of every "
              "log line, epoch and validation, pictures of validation predictions, the effective config)"),
    WB_PARAM_END,
};

static const wb_param_schema evaluation_params[] = {
    WB_P_INT("interval", "-1", -1, BIG,
             "evaluate data.val every N epochs (iterations when by_epoch = false); 0: never; "
             "-1: every epoch, or every max_iters / 10 iterations"),
    WB_P_CHOICE("metric", "\"bbox\"", metric_choices, "bbox: COCO mAP@[.5:.95]; mAP: VOC mAP@0.5; proposal: "
                "the recall of a proposal network's boxes (a head such as rpn_head alone), AR@100/300/1000 over "
                "IoU 0.5:0.95 as mmdetection's proposal_fast"),
    WB_P_INT_LIST("dynamic_intervals", "[]", 1, BIG, "pairs [start, interval, ...]: from epoch (iteration) start "
                  "on, evaluate every interval (mmdet's dynamic_intervals)"),
    WB_PARAM_END,
};

static const wb_param_schema ema_params[] = {
    WB_P_BOOL("enable", "false", "keep an exponential moving average of the weights, saved as ema.* in "
              "checkpoints and used for validation"),
    WB_P_CHOICE("style", "\"mmdet\"", ema_styles, "mmdet: mmdet's (and MMYOLO's) ExpMomentumEMA, the first "
                "update copies the weights; yolov5: YOLOv5's ModelEMA, averaging from the weights before training"),
    WB_P_FLOAT("momentum", "0.0002", 0.0, 1.0, "weight of the new weights in each update (mmdet ExpMomentumEMA; "
               "YOLOv5's decay is 1 - momentum: its 0.9999 is 0.0001)"),
    WB_P_FLOAT("gamma", "2000", 1.0, BIG, "steps of the warm-up ramp of the momentum (YOLOv5's tau)"),
    WB_P_BOOL("update_buffers", "false", "average buffers (BN running statistics) too, as YOLOv5's ModelEMA and "
              "MMYOLO's configs do; false: copy them"),
    WB_PARAM_END,
};

static const wb_param_schema auto_scale_lr_params[] = {
    WB_P_BOOL("enable", "false", "scale lr by batch_size / base_batch_size (linear scaling rule)"),
    WB_P_INT("base_batch_size", "16", 1, 1 << 20, "total batch size the configured lr was tuned for"),
    WB_PARAM_END,
};

static const wb_param_schema plugins_params[] = {
    WB_P_STRING_LIST("prefer", "[]", "plugin files whose module types win where several files define the same "
                                     "type: a path (relative to the experiment file) or a file name"),
    WB_PARAM_END,
};

static const wb_param_schema no_params[] = { WB_PARAM_END };

static const wb_param_schema freeze_params[] = {
    WB_P_STRING_LIST("modules", "[\"backbone\"]", "dotted-name prefixes of the parameters frozen in the first "
                     "epochs (as optimizer.freeze, then trained)"),
    WB_P_REQUIRED_RANGE("epochs", WB_PARAM_INT, 1, BIG, "epochs of the frozen phase (the Keras seed's "
                        "Freeze_Epoch); the rest of schedule.max_epochs trains everything"),
    WB_P_INT("batch_size", "0", 0, 4096, "images per iteration in the frozen phase (Freeze_batch_size); "
             "0: data.batch_size, which the unfrozen phase uses"),
    WB_P_FLOAT("lr", "-1.0", -1.0, 10.0, "base lr of the frozen phase (the schedule's policy and warmup apply "
               "over the whole run); negative: optimizer.lr, which the unfrozen phase uses"),
    WB_PARAM_END,
};

static const wb_param_schema recompute_params[] = {
    WB_P_STRING_LIST("modules", "[\"backbone\"]", "stages whose activations are recomputed in backward instead of "
                     "kept from forward: \"backbone\" and/or \"neck\" (torch.utils.checkpoint, mmdetection's "
                     "with_cp). Less memory for one more forward of each; the same weights bit for bit"),
    WB_PARAM_END,
};

static const wb_param_schema train_params[] = {
    WB_P_BOOL("sync_bn", "false", "mpirun -np N: batch norm in training normalises with the statistics of the "
              "whole batch over every rank (SyncBN; the seeds' --sync-bn); alone it changes nothing"),
    WB_P_FLOAT("loss_scale", "0.0", 0.0, 16777216.0, "amp = \"fp16\": the loss is multiplied by this before "
               "backward and the gradients divided by it; a step with a NaN or Inf gradient is skipped (and "
               "logged). 0: dynamic (torch's GradScaler, mmengine's loss_scale = \"dynamic\": 2^16, halved on "
               "NaN / Inf, doubled after 2000 finite steps); a number: that fixed scale"),
    WB_P_FLOAT("bucket_mb", "25.0", 0.0, 1024.0, "mpirun -np N: gradients are summed over the ranks in buckets "
               "of about this many MB, each started as soon as backward has finished its gradients (PyTorch DDP's "
               "bucket_cap_mb); 0: one sum after the whole backward. The same weights either way"),
    WB_PARAM_END,
};

static const wb_config_section train_sections[] = {
    { "freeze", "freeze-then-unfreeze schedule (the Keras seed's Freeze_Epoch / UnFreeze_Epoch): the first "
      "epochs train with modules frozen, their own batch size and lr; logged at the switch, resumable in "
      "either phase", WB_SECTION_OPTIONAL, freeze_params, NULL },
    { "recompute", "activation recompute: the named stages keep only their inputs and outputs from forward and "
      "run their forward again in backward (batch norm's running statistics still update once)",
      WB_SECTION_OPTIONAL, recompute_params, NULL },
    { NULL, NULL, WB_SECTION_OPTIONAL, NULL, NULL },
};

static const wb_config_section root_sections[] = {
    { "model", "the detector: backbone -> [neck] -> head", WB_SECTION_REQUIRED, model_params, NULL },
    { "data", "datasets, transform pipelines and loading", WB_SECTION_REQUIRED, data_params, data_sections },
    { "optimizer", "how parameters are updated", WB_SECTION_DEFAULTED, optimizer_params, optimizer_sections },
    { "schedule", "training length and learning-rate schedule", WB_SECTION_DEFAULTED, schedule_params, NULL },
    { "checkpoint", "checkpoints in work_dir", WB_SECTION_DEFAULTED, checkpoint_params, NULL },
    { "log", "log lines (text, log.json, run.log, TensorBoard)", WB_SECTION_DEFAULTED, log_params, NULL },
    { "evaluation", "evaluation during training", WB_SECTION_DEFAULTED, evaluation_params, NULL },
    { "ema", "moving average of the weights", WB_SECTION_DEFAULTED, ema_params, NULL },
    { "auto_scale_lr", "learning rate scaled to the batch size", WB_SECTION_DEFAULTED, auto_scale_lr_params, NULL },
    { "plugins", "choices among the loaded plugins", WB_SECTION_DEFAULTED, plugins_params, NULL },
    { "train", "training phases and multi-process training", WB_SECTION_DEFAULTED, train_params, train_sections },
    { NULL, NULL, WB_SECTION_OPTIONAL, NULL, NULL },
};

static const wb_config_section root = { NULL, "experiment", WB_SECTION_REQUIRED, root_params, root_sections };

const wb_config_section *wb_core_schema(void) { return &root; }

const wb_param_schema *wb_section_param(const wb_config_section *s, const char *key) {
    for (const wb_param_schema *p = s->params ? s->params : no_params; p->name; p++)
        if (strcmp(p->name, key) == 0) return p;
    return NULL;
}

const wb_config_section *wb_section_child(const wb_config_section *s, const char *key) {
    for (const wb_config_section *c = s->sections; c && c->name; c++)
        if (strcmp(c->name, key) == 0) return c;
    return NULL;
}

int wb_section_keys(const wb_config_section *s, const char **names, int max) {
    int n = 0;
    for (const wb_param_schema *p = s->params ? s->params : no_params; p->name; p++)
        if (n < max) names[n++] = p->name;
    for (const wb_config_section *c = s->sections; c && c->name; c++)
        if (n < max) names[n++] = c->name;
    return n;
}
