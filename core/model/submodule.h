/* Sub-modules: a plugin creates another module (typically a loss named in its
 * config) through the host. The child runs on the parent's context, so its
 * ops land on the parent's tape and its parameters under the parent's path. */
#ifndef WB_CORE_SUBMODULE_H
#define WB_CORE_SUBMODULE_H

#include <workbench/host.h>
#include "../runtime/session.h"

wb_submodule *wb_submodule_create(wb_ctx *ctx, const wb_params *section, const char *name,
                                  const wb_feature_spec *in, int n_in);
/* The sub-modules created so far on a session, in creation order. */
typedef struct wb_submodule_info {
    const char *path;             /* "head.loss_cls" */
    const wb_module_desc *desc;
} wb_submodule_info;
int wb_submodule_list(const wb_session *s, wb_submodule_info *out, int max);

wb_status wb_submodule_forward(wb_ctx *ctx, wb_submodule *m, wb_tensor *const *in, int n_in,
                               wb_tensor **out, int n_out);

/* Heads as sub-modules (a two-stage head owns its RPN): the child's output
 * specs, and its loss / predict / release_detections on the parent's
 * context, as the core calls a model's head. */
int wb_submodule_output_specs(wb_submodule *m, wb_feature_spec *out, int max_out);
wb_status wb_submodule_loss(wb_ctx *ctx, wb_submodule *m, wb_tensor *const *preds, int n_preds,
                            const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms);
wb_status wb_submodule_predict(wb_ctx *ctx, wb_submodule *m, wb_tensor *const *preds, int n_preds,
                               const wb_batch_truth *meta, wb_detections *dets);
void wb_submodule_release_detections(wb_submodule *m, wb_detections *dets, int n);

#endif
