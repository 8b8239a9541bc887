/* What the model parity tests (our plugins against torchvision, YOLOv5 or
 * mmdetection) share: the plugins loaded before the suite, a config checked
 * against the plugins' schemas as `workbench run` checks it, and detections
 * matched one to one against the reference's. */
#ifndef WB_TEST_WBT_PARITY_H
#define WB_TEST_WBT_PARITY_H

#include <stdbool.h>
#include "config/config.h"
#include "plugin/registry.h"

/* A registry holding the plugin files; NULL after printing which one failed
 * and why (it runs before the suite, where ck_assert cannot report). */
wb_registry *wbt_registry_load(const char *const *files, int n);

/* The config text with the module groups at paths (of kinds) validated
 * against their plugins' schemas, defaults filled exactly as for
 * `workbench run`; asserts there are no errors. */
wb_config *wbt_validated_config(wb_registry *reg, const char *text, const char *const *paths, const int *kinds,
                                int n);
/* The same for model.backbone, model.neck and model.head. */
wb_config *wbt_model_config(wb_registry *reg, const char *text);

/* How our detections must match the reference's. */
typedef struct wbt_dets_match {
    const char *reference; /* named in the failure message: "torchvision's" */
    double score_tol, box_tol;
    /* The order too, except among scores within score_tol of each other
     * (float32 rounding may rank those differently). */
    bool ordered;
} wbt_dets_match;

/* Every detection of d equals a distinct one of the reference's (same label,
 * score and box within the tolerances); prints the worst differences. */
void wbt_assert_same_detections(const wbt_dets_match *how, int image, const wb_detections *d, const float *boxes,
                                const float *scores, const float *labels);

#endif
