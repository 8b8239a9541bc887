/* A run as consecutive phases, each with its own epoch length (train.freeze:
 * the frozen phase's batch size differs from the rest). Iterations count
 * across phases; schedules see a phase's iterations as if the whole run had
 * its epoch length, so lr and warmup follow the epochs, continuous across a
 * switch (the Keras seed recomputes its lr function over the whole run when
 * it unfreezes). A run without phases is one phase from epoch 0. */
#ifndef WB_CORE_PHASES_H
#define WB_CORE_PHASES_H

#include <stdint.h>

typedef struct wb_phase {
    int64_t first_epoch, end_epoch;  /* [first_epoch, end_epoch) */
    int64_t first_iter;              /* iterations of the phases before */
    int64_t per_epoch;               /* iterations per epoch */
} wb_phase;

#define WB_MAX_PHASES 2

typedef struct wb_phases {
    wb_phase p[WB_MAX_PHASES];
    int n;
} wb_phases;

/* Appends a phase of `epochs` epochs of `per_epoch` iterations after the last. */
void wb_phases_add(wb_phases *ph, int64_t epochs, int64_t per_epoch);
/* Iterations of all phases. */
int64_t wb_phases_iters(const wb_phases *ph);
/* The phase iteration `iter` (0-based) belongs to; the last one past the end. */
int wb_phase_at(const wb_phases *ph, int64_t iter);
/* Epochs complete after `done` iterations. */
int64_t wb_phases_epochs_done(const wb_phases *ph, int64_t done);
/* The iteration epoch `epoch` (0-based) starts at. */
int64_t wb_phases_first_iter_of_epoch(const wb_phases *ph, int64_t epoch);
/* Iteration `iter` of phase p counted as if every epoch had p's length. */
int64_t wb_phase_virtual_iter(const wb_phase *p, int64_t iter);

#endif
