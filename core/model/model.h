/* A detector as the core runs it: backbone -> [neck] -> head, each a plugin
 * module instance with its own context (tape, RNG stream, error). The model
 * negotiates shapes at build time and checks every forward against them. */
#ifndef WB_CORE_MODEL_H
#define WB_CORE_MODEL_H

#include "../runtime/context.h"

#define WB_MAX_FEATURES 16

typedef struct wb_module_slot {
    const wb_module_desc *desc;
    void *instance;
    wb_context ctx;
    wb_feature_spec in_specs[WB_MAX_FEATURES];
    int n_in;
    wb_feature_spec out_specs[WB_MAX_FEATURES];
    int n_out;
    wb_tensor *in[WB_MAX_FEATURES];   /* inputs of the last forward */
    wb_tensor *out[WB_MAX_FEATURES];  /* outputs of the last forward */
    struct wb_recompute *recompute;   /* train.recompute (recompute.h); NULL: off */
} wb_module_slot;

/* One module instance on its own (the model's stages, the conformance kit). */
wb_status wb_slot_create(wb_module_slot *slot, wb_session *s, const wb_module_desc *desc, const char *path,
                         const wb_params *params, const wb_feature_spec *in, int n_in, char *err, size_t err_size);
/* Runs forward and checks the outputs against the declared specs for an
 * input image of image_h x image_w. In training a slot under
 * train.recompute then forgets its tape (recompute.h). */
wb_status wb_slot_forward(wb_module_slot *slot, wb_tensor *const *in, int n_in, int64_t image_h, int64_t image_w,
                          bool train, char *err, size_t err_size);
/* The same without train.recompute's part: what recompute.c runs again. */
wb_status wb_slot_run_forward(wb_module_slot *slot, wb_tensor *const *in, int n_in, int64_t image_h,
                              int64_t image_w, bool train, char *err, size_t err_size);
/* A head's loss terms for its last forward (out[]), each checked to be one
 * finite value; iteration only names the step in messages. */
wb_status wb_slot_loss(wb_module_slot *head, const wb_batch_truth *truth, int64_t iteration, wb_loss_term *terms,
                       int *n_terms, char *err, size_t err_size);
/* d(sum of the terms)/d(term) = 1 for every term, on the head's context. */
/* mmdetection's parse_losses rule: a term whose name contains "loss" is
 * trained and summed into the total; any other ("acc", "s0.acc") is a
 * metric, logged beside them only. */
bool wb_term_is_loss(const char *name);
wb_status wb_slot_seed_loss_grads(wb_module_slot *head, wb_loss_term *terms, int n_terms, char *err,
                                  size_t err_size);
/* Replays the slot's tape only (a custom backward is not called): for the
 * gradient of a loss computed on predictions that are leaves. */
wb_status wb_slot_replay(wb_module_slot *slot, char *err, size_t err_size);
/* Input gradients from the output gradients (tape replay or custom backward). */
wb_status wb_slot_backward(wb_module_slot *slot, char *err, size_t err_size);
void wb_slot_destroy(wb_module_slot *slot);

typedef struct wb_model {
    wb_session *s;
    wb_module_slot stage[3];  /* backbone, neck (optional), head */
    int n_stages;
    int64_t iteration;        /* for messages */
} wb_model;

/* Creates the modules of a `model` section (backbone, optional neck, head),
 * negotiates their feature specs and creates their parameters. */
wb_status wb_model_build(wb_session *s, const wb_params *model, wb_model **out, char *err, size_t err_size);
/* Decides whether the stages built so far may run a forward (validate's
 * memory check); WB_OK or an error with its message in err. */
typedef wb_status (*wb_stage_gate)(void *user, const wb_model *partial, char *err, size_t err_size);
/* wb_model_build that runs each stage's forward on image [N,3,H,W] (no tape)
 * as soon as the stage is created, checking its outputs against its declared
 * specs before the next stage is created: a module that breaks its promise
 * is named before a later one can trip over it. gate (may be NULL) runs
 * before each forward. The outputs stay in stage[i].out. */
wb_status wb_model_build_probed(wb_session *s, const wb_params *model, wb_tensor *image, wb_stage_gate gate,
                                void *user, wb_model **out, char *err, size_t err_size);
void wb_model_destroy(wb_model *m);
wb_module_slot *wb_model_head(wb_model *m);

/* Turns recompute on for the stages named in section's `modules` (the
 * train.recompute section; NULL: none). WB_ERR_INVALID with the reason in
 * err for a name that is not the backbone or the neck of this model, or a
 * stage with a hand-written backward (it may read anything its forward
 * made). */
wb_status wb_model_configure_recompute(wb_model *m, const wb_params *section, char *err, size_t err_size);

/* Runs every stage on images [N,3,H,W]; `train` records tapes. */
wb_status wb_model_forward(wb_model *m, wb_tensor *images, bool train, char *err, size_t err_size);
/* The head's loss terms for the last forward; each checked to be finite. */
wb_status wb_model_loss(wb_model *m, const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms,
                        char *err, size_t err_size);
/* Gradients of the sum of the loss terms into every trainable parameter. */
wb_status wb_model_backward(wb_model *m, wb_loss_term *terms, int n_terms, char *err, size_t err_size);
/* The same for loss_scale times the sum (fp16's loss scaling, train/loss_scaler.h). */
wb_status wb_model_backward_scaled(wb_model *m, wb_loss_term *terms, int n_terms, float loss_scale, char *err,
                                   size_t err_size);
/* Detections of the last forward, one per image (release with wb_model_release_detections). */
wb_status wb_model_predict(wb_model *m, const wb_batch_truth *meta, wb_detections *dets,
                           char *err, size_t err_size);
void wb_model_release_detections(wb_model *m, wb_detections *dets, int n);
/* Forgets the last iteration (tapes, errors); call before resetting the compute arena. */
void wb_model_end_iteration(wb_model *m);

#endif
