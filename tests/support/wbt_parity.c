#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include "wbt_parity.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app/experiment.h"

wb_registry *wbt_registry_load(const char *const *files, int n) {
    wb_registry *reg = wb_registry_new();
    for (int i = 0; i < n; i++) {
        if (wb_registry_load_file(reg, files[i], "test") != WB_OK) {
            fprintf(stderr, "cannot load %s: %s\n", files[i], wb_registry_error(reg));
            return NULL;
        }
    }
    return reg;
}

wb_config *wbt_validated_config(wb_registry *reg, const char *text, const char *const *paths, const int *kinds,
                                int n) {
    char path[] = "/tmp/wb_parity_XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    wb_config *cfg = wb_config_new();
    wb_module_lookup lk = wb_registry_module_lookup(reg);
    ck_assert(wb_config_load(cfg, path) == 0);
    unlink(path);
    for (int i = 0; i < n; i++) wb_config_validate_module(cfg, paths[i], kinds[i], &lk);
    if (wb_config_error_count(cfg) > 0) wb_config_print_errors(cfg, stderr);
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    return cfg;
}

wb_config *wbt_model_config(wb_registry *reg, const char *text) {
    static const char *const paths[] = {"model.backbone", "model.neck", "model.head"};
    static const int kinds[] = {WB_KIND_BACKBONE, WB_KIND_NECK, WB_KIND_HEAD};
    return wbt_validated_config(reg, text, paths, kinds, 3);
}

void wbt_assert_same_detections(const wbt_dets_match *how, int image, const wb_detections *d, const float *boxes,
                                const float *scores, const float *labels) {
    static bool used[1024];
    ck_assert(d->num <= 1024);
    memset(used, 0, sizeof used);
    double worst_box = 0, worst_score = 0;
    for (int k = 0; k < d->num; k++) {
        int match = -1;
        for (int j = 0; j < d->num && match < 0; j++) {
            if (used[j] || (int)labels[j] != d->labels[k] || fabs(scores[j] - d->scores[k]) > how->score_tol) continue;
            if (how->ordered && fabs(scores[j] - scores[k]) > how->score_tol) continue;
            bool same = true;
            for (int c = 0; c < 4; c++) same = same && fabs(boxes[4 * j + c] - d->boxes[4 * k + c]) <= how->box_tol;
            if (same) match = j;
        }
        ck_assert_msg(match >= 0, "image %d detection %d (label %d, score %.9g, box %.3f %.3f %.3f %.3f) has no "
                      "equal in %s (there: label %d, score %.9g)", image, k, d->labels[k], d->scores[k],
                      d->boxes[4 * k], d->boxes[4 * k + 1], d->boxes[4 * k + 2], d->boxes[4 * k + 3], how->reference,
                      (int)labels[k], scores[k]);
        used[match] = true;
        worst_score = fmax(worst_score, fabs(scores[match] - d->scores[k]));
        for (int c = 0; c < 4; c++) worst_box = fmax(worst_box, fabs(boxes[4 * match + c] - d->boxes[4 * k + c]));
    }
    printf("  image %d: %d detections match, max score diff %.3g, max box diff %.3g px\n", image, d->num,
           worst_score, worst_box);
}
