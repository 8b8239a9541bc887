/* Parameters left out of training by name, as YOLOv5's --freeze: they get
 * no gradient and no update, while their layers run as in training (a
 * frozen norm layer still updates its running statistics). */
#ifndef WB_CORE_FREEZE_H
#define WB_CORE_FREEZE_H

#include "../runtime/session.h"

/* Freezes every parameter whose dotted name is one of `prefixes` or starts
 * with one followed by a dot ("backbone.stage1" takes backbone.stage1.0.conv.weight, not
 * backbone.stage10.*). A prefix that names no parameter is an error (a typo
 * would silently train everything). Returns the number frozen, or -1. */
int wb_freeze_params(wb_session *s, const char *const *prefixes, int n, char *err, size_t err_size);

/* The frozen phase of train.freeze: the parameters it took out of training
 * (those trainable when it began, as session indices), and only those, go
 * back when it ends; a module frozen for good (optimizer.freeze, a
 * backbone's frozen_stages) stays frozen. */
typedef struct wb_frozen_set {
    int *index;
    int n;
} wb_frozen_set;

/* As wb_freeze_params, recording what it froze in *out (freed by
 * wb_freeze_phase_end, also after a failure). Returns the number or -1. */
int wb_freeze_phase_begin(wb_session *s, const char *const *prefixes, int n, wb_frozen_set *out, char *err,
                          size_t err_size);
void wb_freeze_phase_end(wb_session *s, wb_frozen_set *set);

#endif
