#include "evolve_hyp.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "../anchors/anchor_random.h"
#include "../config/hyp_file.h"

#define MUTATION_PROB 0.8
#define SIGMA 0.2

/* YOLOv5 7.0 train.py's meta (gain, lower, upper) with hyp.scratch-low.yaml's
 * values; `anchors` (anchors per cell) is appended as YOLOv5 appends it when
 * the file comments it out. */
const wb_evolve_key wb_evolve_keys[WB_EVOLVE_N_HYP] = {
    {"lr0", 1, 1e-5, 1e-1, 0.01},
    {"lrf", 1, 0.01, 1.0, 0.01},
    {"momentum", 0.3, 0.6, 0.98, 0.937},
    {"weight_decay", 1, 0.0, 0.001, 0.0005},
    {"warmup_epochs", 1, 0.0, 5.0, 3.0},
    {"warmup_momentum", 1, 0.0, 0.95, 0.8},
    {"warmup_bias_lr", 1, 0.0, 0.2, 0.1},
    {"box", 1, 0.02, 0.2, 0.05},
    {"cls", 1, 0.2, 4.0, 0.5},
    {"cls_pw", 1, 0.5, 2.0, 1.0},
    {"obj", 1, 0.2, 4.0, 1.0},
    {"obj_pw", 1, 0.5, 2.0, 1.0},
    {"iou_t", 0, 0.1, 0.7, 0.20},
    {"anchor_t", 1, 2.0, 8.0, 4.0},
    {"fl_gamma", 0, 0.0, 2.0, 0.0},
    {"hsv_h", 1, 0.0, 0.1, 0.015},
    {"hsv_s", 1, 0.0, 0.9, 0.7},
    {"hsv_v", 1, 0.0, 0.9, 0.4},
    {"degrees", 1, 0.0, 45.0, 0.0},
    {"translate", 1, 0.0, 0.9, 0.1},
    {"scale", 1, 0.0, 0.9, 0.5},
    {"shear", 1, 0.0, 10.0, 0.0},
    {"perspective", 0, 0.0, 0.001, 0.0},
    {"flipud", 1, 0.0, 1.0, 0.0},
    {"fliplr", 0, 0.0, 1.0, 0.5},
    {"mosaic", 1, 0.0, 1.0, 1.0},
    {"mixup", 1, 0.0, 1.0, 0.0},
    {"copy_paste", 1, 0.0, 1.0, 0.0},
    {"anchors", 2, 2.0, 10.0, 3.0},
};

static int key_index(const char *name) {
    for (int k = 0; k < WB_EVOLVE_N_HYP; k++)
        if (strcmp(wb_evolve_keys[k].name, name) == 0) return k;
    return -1;
}

int wb_evolve_hyp_start(const char *path, double *hyp, char *err, size_t n) {
    for (int k = 0; k < WB_EVOLVE_N_HYP; k++) hyp[k] = wb_evolve_keys[k].start;
    if (!path) return 0;
    static wb_hyp_file file; /* 19 KiB: not on the stack */
    char why[1024];
    if (wb_hyp_read(path, &file, why, sizeof why) != 0) {
        snprintf(err, n, "%s: %s", path, why);
        return 2;
    }
    for (int i = 0; i < file.n; i++) {
        int k = key_index(file.entries[i].name);
        if (k < 0) {
            snprintf(err, n, "%s:%u: '%s' is not one of the hyperparameters YOLOv5's evolution mutates (lr0 ... "
                     "copy_paste, anchors); remove it, or set it in the experiment", path, file.entries[i].line,
                     file.entries[i].name);
            return 2;
        }
        hyp[k] = file.entries[i].value;
    }
    return 0;
}

void wb_evolve_mutate(const double *parent, double *child, uint64_t *rng) {
    double v[WB_EVOLVE_N_HYP];
    bool changed = false;
    while (!changed) {
        double r[WB_EVOLVE_N_HYP], z[WB_EVOLVE_N_HYP];
        for (int k = 0; k < WB_EVOLVE_N_HYP; k++) r[k] = wb_anchor_uniform(rng);
        for (int k = 0; k < WB_EVOLVE_N_HYP; k++) z[k] = wb_anchor_normal(rng);
        double strength = wb_anchor_uniform(rng);
        for (int k = 0; k < WB_EVOLVE_N_HYP; k++) {
            double f = wb_evolve_keys[k].gain * (r[k] < MUTATION_PROB) * z[k] * strength * SIGMA + 1.0;
            v[k] = fmin(fmax(f, 0.3), 3.0);
            changed |= v[k] != 1.0;
        }
    }
    for (int k = 0; k < WB_EVOLVE_N_HYP; k++) child[k] = parent[k] * v[k];
}

void wb_evolve_constrain(double *hyp) {
    for (int k = 0; k < WB_EVOLVE_N_HYP; k++) {
        double v = fmin(fmax(hyp[k], wb_evolve_keys[k].lo), wb_evolve_keys[k].hi);
        hyp[k] = nearbyint(v * 1e5) / 1e5; /* round half to even, as Python's round(v, 5) */
    }
}

int wb_evolve_hyp_write(const char *path, const char *header, const double *hyp, char *err, size_t n) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, n, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (header) fputs(header, f);
    for (int k = 0; k < WB_EVOLVE_N_HYP; k++) fprintf(f, "%s: %.10g\n", wb_evolve_keys[k].name, hyp[k]);
    bool ok = fflush(f) == 0 && !ferror(f);
    if (fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}
