#include "val_loss.h"

#include <stdio.h>
#include <string.h>
#include "../runtime/host_copy.h"
#include "../runtime/log.h"

static void turn_off(wb_val_loss *v, const char *why) {
    static bool noted; /* once a process: evolve's and training's repeated validations would repeat it */
    if (!noted) wb_logf(WB_LOG_INFO, "val", "no validation loss: %s", why);
    noted = true;
    v->off = true;
}

void wb_val_loss_add(wb_val_loss *v, wb_model *m, const wb_batch_truth *truth) {
    if (v->off) return;
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n = 0;
    char err[1024];
    wb_status st = wb_model_loss(m, truth, terms, &n, err, sizeof err);
    if (st != WB_OK) {
        wb_ctx_clear_error(&wb_model_head(m)->ctx);
        turn_off(v, err);
        return;
    }
    if (v->batches > 0 && n != v->n_terms) {
        turn_off(v, "the head returned another number of loss terms for a later batch");
        return;
    }
    for (int k = 0; k < n; k++) {
        if (v->batches > 0 && strcmp(v->names[k], terms[k].name) != 0) {
            turn_off(v, "the head named its loss terms differently for a later batch");
            return;
        }
        snprintf(v->names[k], sizeof v->names[k], "%.*s", WB_NAME_MAX - 1, terms[k].name);
        v->sums[k] += wb_host_read_value(wb_model_head(m)->ctx.s->backend, terms[k].value->data);
    }
    v->n_terms = n;
    v->batches++;
}

double wb_val_loss_mean(const wb_val_loss *v, int k) { return v->batches ? v->sums[k] / (double)v->batches : 0.0; }

bool wb_val_loss_ready(const wb_val_loss *v) { return !v->off && v->batches > 0; }
