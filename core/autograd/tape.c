#include "tape.h"

#include <string.h>
#include "../runtime/context.h"

bool wb_tape_needed(wb_context *c, wb_tensor *const *in, int n_in) {
    if (!c->grad_enabled) return false;
    for (int i = 0; i < n_in; i++)
        if (in[i] && in[i]->requires_grad) return true;
    return false;
}

wb_tape_node *wb_tape_record(wb_context *c, const char *op, wb_tape_backward_fn fn,
                             wb_tensor *const *in, int n_in, wb_tensor *const *out, int n_out,
                             size_t saved_bytes) {
    wb_arena *a = &c->s->compute;
    wb_tape_node *node = wb_arena_calloc(a, sizeof *node);
    wb_tensor **ins = wb_arena_alloc(a, (size_t)(n_in ? n_in : 1) * sizeof *ins);
    wb_tensor **outs = wb_arena_alloc(a, (size_t)(n_out ? n_out : 1) * sizeof *outs);
    void *saved = saved_bytes ? wb_arena_calloc(a, saved_bytes) : NULL;
    if (!node || !ins || !outs || (saved_bytes && !saved)) {
        wb_ctx_fail(c, WB_ERR_NOMEM, "%s: out of memory recording the tape", op);
        return NULL;
    }
    memcpy(ins, in, (size_t)n_in * sizeof *ins);
    memcpy(outs, out, (size_t)n_out * sizeof *outs);
    for (int i = 0; i < n_out; i++) out[i]->requires_grad = true;
    node->op = op;
    node->backward = fn;
    node->in = ins;
    node->n_in = n_in;
    node->out = outs;
    node->n_out = n_out;
    node->saved = saved;
    node->prev = c->tape.last;
    c->tape.last = node;
    c->tape.count++;
    return node;
}

wb_status wb_tape_backward(wb_context *c) {
    for (wb_tape_node *n = c->tape.last; n; n = n->prev) {
        bool any = false;
        for (int i = 0; i < n->n_out; i++) any |= n->out[i]->grad_valid;
        if (!any) continue;
        wb_status st = n->backward(c, n);
        if (st != WB_OK) {
            if (c->err == WB_OK) wb_ctx_fail(c, st, "backward of %s failed", n->op);
            return c->err;
        }
    }
    return c->err;
}

void wb_tape_clear(wb_context *c) {
    c->tape.last = NULL;
    c->tape.count = 0;
}

float *wb_grad_begin(wb_context *c, wb_tensor *t) {
    size_t bytes = (size_t)t->numel * sizeof(float);
    if (!t->grad) {
        /* Parameters get their gradient buffer at creation; activations here. */
        t->grad = wb_ctx_scratch(c, bytes);
        if (!t->grad) return NULL;
    }
    if (!t->grad_valid) return t->grad;
    return wb_ctx_scratch(c, bytes);
}

void wb_grad_end(wb_context *c, wb_tensor *t, float *buf) {
    if (!buf) return;
    if (buf != t->grad) {
        const float *src = buf;
        float *dst = t->grad;
        int64_t n = t->numel;
        (void)c;
#pragma omp parallel for schedule(static) if (n > 65536)
        for (int64_t i = 0; i < n; i++) dst[i] += src[i];
    }
    t->grad_valid = true;
}

const float *wb_grad_of(wb_context *c, wb_tensor *t) {
    if (t->grad_valid) return t->grad;
    /* Never written: a zero gradient of the right size. */
    float *z = wb_ctx_scratch(c, (size_t)t->numel * sizeof(float));
    if (z) c->s->backend->zero(z, (size_t)t->numel * sizeof(float));
    return z;
}
