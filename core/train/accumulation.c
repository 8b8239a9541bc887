#include "accumulation.h"

#include <math.h>
#include "schedule.h"

int wb_nominal_accumulate(int nbs, int batch_size) {
    double k = rint((double)nbs / (double)batch_size); /* Python's round: half to even */
    return k > 1.0 ? (int)k : 1;
}

float wb_nominal_weight_decay(float weight_decay, int nbs, int batch_size) {
    return (float)(weight_decay * ((double)batch_size * wb_nominal_accumulate(nbs, batch_size) / nbs));
}

int wb_accumulate_at(const wb_accumulation *a, int64_t iter) {
    if (iter >= a->warmup_iters) return wb_nominal_accumulate(a->nbs, a->batch_size);
    double k = rint(wb_interp((double)iter, (double)a->warmup_iters, 1.0, (double)a->nbs / (double)a->batch_size));
    return k > 1.0 ? (int)k : 1;
}

/* Nominal batch mode: whether the step falls after iteration `iter`. */
static bool nominal_steps(wb_accumulation *a, int64_t iter) {
    if (iter - a->last_step < wb_accumulate_at(a, iter)) return false;
    a->last_step = iter;
    return true;
}

void wb_accumulation_begin(wb_accumulation *a, int64_t start) {
    a->pending = 0; /* a checkpoint holds no gradient */
    a->last_step = -1;
    /* Where the steps fall depends only on the iteration numbers: replay them
     * so a resumed run steps where the uninterrupted one would have. */
    for (int64_t i = 0; a->nbs > 0 && i < start; i++) (void)nominal_steps(a, i);
}

bool wb_accumulation_drops(wb_accumulation *a, int64_t iter, int64_t per_epoch) {
    if (a->nbs <= 0 || iter % per_epoch != 0 || a->pending == 0) return false;
    a->pending = 0;
    return true;
}

bool wb_accumulation_step_now(wb_accumulation *a, int64_t iter, bool boundary, float *grad_scale) {
    int done = ++a->pending;
    if (a->nbs > 0) {
        *grad_scale = 1.0f;
        if (!nominal_steps(a, iter)) return false;
    } else {
        *grad_scale = 1.0f / (float)done;
        if (done < (a->every > 1 ? a->every : 1) && !boundary) return false;
    }
    a->pending = 0;
    return true;
}
