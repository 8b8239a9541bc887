#include "phases.h"

#include <stddef.h>

void wb_phases_add(wb_phases *ph, int64_t epochs, int64_t per_epoch) {
    const wb_phase *last = ph->n ? &ph->p[ph->n - 1] : NULL;
    int64_t first_epoch = last ? last->end_epoch : 0;
    int64_t first_iter = last ? last->first_iter + (last->end_epoch - last->first_epoch) * last->per_epoch : 0;
    ph->p[ph->n++] = (wb_phase){first_epoch, first_epoch + epochs, first_iter, per_epoch};
}

int64_t wb_phases_iters(const wb_phases *ph) {
    const wb_phase *last = &ph->p[ph->n - 1];
    return last->first_iter + (last->end_epoch - last->first_epoch) * last->per_epoch;
}

int wb_phase_at(const wb_phases *ph, int64_t iter) {
    int k = 0;
    while (k + 1 < ph->n && iter >= ph->p[k + 1].first_iter) k++;
    return k;
}

int64_t wb_phases_epochs_done(const wb_phases *ph, int64_t done) {
    const wb_phase *p = &ph->p[wb_phase_at(ph, done)];
    return p->first_epoch + (done - p->first_iter) / p->per_epoch;
}

int64_t wb_phase_virtual_iter(const wb_phase *p, int64_t iter) {
    return p->first_epoch * p->per_epoch + (iter - p->first_iter);
}

int64_t wb_phases_first_iter_of_epoch(const wb_phases *ph, int64_t epoch) {
    int k = 0;
    while (k + 1 < ph->n && epoch >= ph->p[k + 1].first_epoch) k++;
    return ph->p[k].first_iter + (epoch - ph->p[k].first_epoch) * ph->p[k].per_epoch;
}
