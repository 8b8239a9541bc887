/* The pieces of `workbench gradcheck` (conformance.c runs them): the module's
 * config, the finite-difference comparison, and the loss checks. */
#ifndef WB_CORE_CONFORMANCE_KIT_H
#define WB_CORE_CONFORMANCE_KIT_H

#include "../model/model.h"
#include "conformance.h"

/* ---- the module's config (conformance_config.c) ---- */

/* The module's section validated and defaulted as an experiment's would be:
 * its type, then small values for required integers (num_classes) and, with
 * --quick, for widths, then `extra` ("key=value", e.g. a reduction), then the
 * user's --set, which wins. Every change is said on out. NULL after printing
 * the problems. Free with wb_config_free; the section is wb_gc_params(cfg). */
wb_config *wb_gc_config(wb_registry *reg, const wb_module_desc *d, const wb_conformance_opts *o,
                        const char *extra, FILE *out);
const wb_params *wb_gc_params(wb_config *cfg);
/* Whether the user's --set names this top-level key. */
bool wb_gc_user_sets(const wb_conformance_opts *o, const char *key);

/* ---- finite differences (conformance_probe.c) ---- */

typedef struct wb_gc_probe {
    wb_tensor *t;     /* its grad holds the backward's result when compared */
    char name[160];
} wb_gc_probe;

/* Recomputes the checked scalar for the current values of the probed
 * tensors; false with a message in err when that fails. */
typedef bool (*wb_gc_eval_fn)(void *user, double *value, char *err, size_t err_size);

/* Compares each tensor's backward gradient with central differences at up to
 * `points` of its elements (half where the backward is largest, half at
 * random) and prints one PASS/FAIL line per tensor. Returns the number of
 * tensors that failed. */
int wb_gc_compare(const wb_gc_probe *p, int n, wb_gc_eval_fn eval, void *user, int points, uint64_t *rng,
                  FILE *out);

/* ---- running one module (conformance.c) ---- */

/* A reference-backend session that finds modules (sub-modules too) in reg. */
wb_session *wb_gc_session(wb_registry *reg, uint64_t seed);

/* Forward, backward of a random weighting of the outputs, and finite
 * differences on every trainable parameter and every input that requires a
 * gradient. image_size is what forward's output check sees. Returns the
 * number of failures (a forward or backward that fails counts as one). */
int wb_gc_check_slot(wb_module_slot *slot, wb_tensor *const *x, const char *const *x_names, int n_x, int image_size,
                     const wb_conformance_opts *o, FILE *out);

/* ---- losses (conformance_loss.c, conformance_head.c) ---- */

/* A loss module: random pred/target/weight for every reduction it offers.
 * Returns failures, or -1 after a usage problem was printed. */
int wb_gc_check_loss(wb_registry *reg, const wb_module_desc *d, const wb_conformance_opts *o, FILE *out);

/* A head's loss(): random truth boxes, then the loss terms' gradient with
 * respect to the predictions (and any parameter the loss itself uses). */
int wb_gc_check_head_loss(wb_module_slot *head, wb_tensor *const *x, int n_x, int image_size,
                          const wb_params *params, const wb_conformance_opts *o, FILE *out);

#endif
