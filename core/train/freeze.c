#include "freeze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool under(const char *name, const char *prefix) {
    size_t len = strlen(prefix);
    return len > 0 && strncmp(name, prefix, len) == 0 && (name[len] == '\0' || name[len] == '.');
}

/* Freezes the trainable parameters under the prefixes; each one frozen is
 * appended to `taken` when it is not NULL. */
static int freeze_under(wb_session *s, const char *const *prefixes, int n, const char *what, wb_frozen_set *taken,
                        char *err, size_t err_size) {
    int frozen = 0;
    for (int k = 0; k < n; k++) {
        int matched = 0;
        for (int i = 0; i < s->n_params; i++) {
            wb_tensor *t = s->params[i].tensor;
            if (s->params[i].is_buffer || !under(s->params[i].name, prefixes[k])) continue;
            matched++;
            if (!t->trainable) continue;
            t->trainable = false;
            t->requires_grad = false;
            if (taken) taken->index[taken->n++] = i;
            frozen++;
        }
        if (matched == 0) {
            snprintf(err, err_size, "%s: no parameter is named '%s' or '%s.*'; give a prefix of the "
                     "dotted names checkpoints use, such as '%s'", what, prefixes[k], prefixes[k],
                     s->n_params ? s->params[0].name : "backbone");
            return -1;
        }
    }
    return frozen;
}

int wb_freeze_params(wb_session *s, const char *const *prefixes, int n, char *err, size_t err_size) {
    return freeze_under(s, prefixes, n, "optimizer.freeze", NULL, err, err_size);
}

int wb_freeze_phase_begin(wb_session *s, const char *const *prefixes, int n, wb_frozen_set *out, char *err,
                          size_t err_size) {
    memset(out, 0, sizeof *out);
    out->index = malloc((size_t)(s->n_params ? s->n_params : 1) * sizeof *out->index);
    if (!out->index) {
        snprintf(err, err_size, "train.freeze: out of memory");
        return -1;
    }
    int frozen = freeze_under(s, prefixes, n, "train.freeze.modules", out, err, err_size);
    if (frozen < 0) wb_freeze_phase_end(s, out); /* a later prefix failed: give back what the earlier took */
    return frozen;
}

void wb_freeze_phase_end(wb_session *s, wb_frozen_set *set) {
    for (int k = 0; set->index && k < set->n; k++) {
        wb_tensor *t = s->params[set->index[k]].tensor;
        t->trainable = true;
        t->requires_grad = true;
    }
    free(set->index);
    memset(set, 0, sizeof *set);
}
