#include "freeze.h"

#include <stdio.h>
#include <string.h>

static bool under(const char *name, const char *prefix) {
    size_t len = strlen(prefix);
    return len > 0 && strncmp(name, prefix, len) == 0 && (name[len] == '\0' || name[len] == '.');
}

int wb_freeze_params(wb_session *s, const char *const *prefixes, int n, char *err, size_t err_size) {
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
            frozen++;
        }
        if (matched == 0) {
            snprintf(err, err_size, "optimizer.freeze: no parameter is named '%s' or '%s.*'; give a prefix of the "
                     "dotted names checkpoints use, such as '%s'", prefixes[k], prefixes[k],
                     s->n_params ? s->params[0].name : "backbone");
            return -1;
        }
    }
    return frozen;
}
