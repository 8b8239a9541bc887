#include "tape.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../backends/kernels_pointwise.h"
#include "../runtime/context.h"
#include "../runtime/host_maps.h"
#include "../runtime/tensor_refs.h"

bool wb_tape_needed(wb_context *c, wb_tensor *const *in, int n_in) {
    if (!c->grad_enabled) return false;
    for (int i = 0; i < n_in; i++)
        if (in[i] && in[i]->requires_grad) return true;
    return false;
}

static bool keeps_in(const wb_tape_node *n, int i) {
    return n->keep == WB_KEEP_ALL || (i < 24 && (n->keep & WB_KEEP_IN(i)));
}

static bool keeps_out(const wb_tape_node *n, int j) {
    return n->keep == WB_KEEP_ALL || (j < 8 && (n->keep & WB_KEEP_OUT(j)));
}

/* What a node holds to keep input t readable: a ReLU output's input, from which it is recomputed. */
static wb_tensor *held_for(wb_tensor *t) { return t && t->relu_of ? t->relu_of : t; }

static void for_each_kept(wb_tape_node *n, void (*fn)(wb_tensor *)) {
    for (int i = 0; i < n->n_in; i++)
        if (keeps_in(n, i)) fn(held_for(n->in[i]));
    for (int j = 0; j < n->n_out; j++)
        if (keeps_out(n, j)) fn(n->out[j]);
}

/* The node has run (or had nothing to do): nothing reads its outputs'
 * gradients or the data it held any more. */
static void retire(wb_context *c, wb_tape_node *n) {
    for (int i = 0; i < n->n_in; i++)
        if (keeps_in(n, i)) wb_storage_drop(c->s, held_for(n->in[i]));
    for (int i = 0; i < n->n_held; i++) wb_storage_drop(c->s, n->held[i]);
    for (int j = 0; j < n->n_out; j++) {
        if (keeps_out(n, j)) wb_storage_drop(c->s, n->out[j]);
        wb_grad_free(c->s, n->out[j]);
    }
}

wb_tape_node *wb_tape_record(wb_context *c, const char *op, wb_tape_backward_fn fn,
                             wb_tensor *const *in, int n_in, wb_tensor *const *out, int n_out,
                             size_t saved_bytes, unsigned keep) {
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
    node->keep = keep;
    for_each_kept(node, wb_storage_retain);
    node->prev = c->tape.last;
    c->tape.last = node;
    c->tape.count++;
    return node;
}

bool wb_tape_hold(wb_context *c, wb_tape_node *node, wb_tensor *const *t, int n) {
    if (n <= 0) return true;
    wb_tensor **held = wb_arena_alloc(&c->s->compute, (size_t)n * sizeof *held);
    if (!held) {
        wb_ctx_fail(c, WB_ERR_NOMEM, "%s: out of memory recording the tape", node->op);
        return false;
    }
    memcpy(held, t, (size_t)n * sizeof *held);
    for (int i = 0; i < n; i++) wb_storage_retain(held[i]);
    node->held = held;
    node->n_held = n;
    return true;
}

/* A trainable parameter and the forward index of the first node that reads it. */
typedef struct first_read {
    wb_tensor *param;
    int node;
} first_read;

static int by_param_then_node(const void *a, const void *b) {
    const first_read *x = a, *y = b;
    if (x->param != y->param) return (uintptr_t)x->param < (uintptr_t)y->param ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

static int by_node_descending(const void *a, const void *b) {
    const first_read *x = a, *y = b;
    return (x->node < y->node) - (x->node > y->node);
}

/* The parameters the tape reads, each with its first reader, in the order the
 * replay finishes them (the last node first). -1 when out of memory. */
static int first_readers(wb_context *c, first_read **out) {
    int reads = 0;
    for (wb_tape_node *n = c->tape.last; n; n = n->prev) reads += n->n_in;
    first_read *r = wb_arena_alloc(&c->s->compute, (size_t)(reads ? reads : 1) * sizeof *r);
    if (!r) return -1;
    int k = 0, node = c->tape.count;
    for (wb_tape_node *n = c->tape.last; n; n = n->prev) {
        node--;
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i] && n->in[i]->persistent && n->in[i]->trainable) r[k++] = (first_read){n->in[i], node};
    }
    qsort(r, (size_t)k, sizeof *r, by_param_then_node);
    int kept = 0;
    for (int i = 0; i < k; i++)
        if (i == 0 || r[i].param != r[i - 1].param) r[kept++] = r[i];
    qsort(r, (size_t)kept, sizeof *r, by_node_descending);
    *out = r;
    return kept;
}

bool wb_tape_data_gone(const wb_tensor *t) { return t && t->storage && !t->storage->data; }

bool wb_tape_revive(wb_context *c, const char *op, wb_tensor *t) {
    if (!wb_tape_data_gone(t)) return true;
    if (!t->relu_of) return wb_ctx_fail(c, WB_ERR_INTERNAL, "%s: a tensor read by backward has no data", op), false;
    float *data = wb_pool_alloc(&c->s->tensors, t->storage->bytes);
    if (!data) {
        wb_ctx_fail(c, WB_ERR_NOMEM, "%s: out of memory recomputing a ReLU output of %lld floats for backward", op,
                    (long long)t->numel);
        return false;
    }
    c->s->backend->pointwise->act_forward(WB_ACT_RELU, 0.0f, t->relu_of->data, data, t->numel);
    t->storage->data = t->data = data;
    return true;
}

void wb_tape_unrevive(wb_context *c, wb_tensor *t) {
    /* refs == 0 with data: revived (a live tensor's storage has references) */
    if (!t || !t->storage || !t->storage->data || t->storage->refs > 0) return;
    wb_storage *st = t->storage;
    if (c->s->n_maps) wb_host_maps_forget(c->s, st->data, st->bytes);
    wb_pool_free(&c->s->tensors, st->data, st->bytes);
    st->data = NULL;
}

/* Gives the kept ReLU outputs whose memory is gone by now their data again, from the inputs the node held
 * (relu_of): pool memory for the length of the node's backward. false when out of memory. */
static bool recompute_inputs(wb_context *c, wb_tape_node *n) {
    for (int i = 0; i < n->n_in; i++)
        if (keeps_in(n, i) && n->in[i] && n->in[i]->relu_of && !wb_tape_revive(c, n->op, n->in[i])) return false;
    return true;
}

static void drop_recomputed(wb_context *c, wb_tape_node *n) {
    for (int i = 0; i < n->n_in; i++)
        if (keeps_in(n, i) && n->in[i] && n->in[i]->relu_of) wb_tape_unrevive(c, n->in[i]);
}

void wb_tape_shed(wb_context *c) {
    for (wb_tape_node *n = c->tape.last; n; n = n->prev)
        if (n->shed) n->shed(c, n);
}

wb_status wb_tape_backward(wb_context *c) {
    first_read *finals = NULL;
    int n_finals = 0, next_final = 0, node = c->tape.count;
    if (c->tape.on_final && (n_finals = first_readers(c, &finals)) < 0)
        return wb_ctx_fail(c, WB_ERR_NOMEM, "out of memory planning the gradient buckets' hooks");
    for (wb_tape_node *n = c->tape.last; n; n = n->prev) {
        node--;
        bool any = false;
        for (int i = 0; i < n->n_out; i++) any |= n->out[i]->grad_valid;
        wb_status st = WB_OK;
        if (any) {
            st = recompute_inputs(c, n) ? n->backward(c, n) : c->err;
            drop_recomputed(c, n);
        }
        if (st != WB_OK) {
            if (c->err == WB_OK) wb_ctx_fail(c, st, "backward of %s failed", n->op);
            return c->err;
        }
        retire(c, n);
        for (; next_final < n_finals && finals[next_final].node == node; next_final++)
            c->tape.on_final(c->tape.on_final_user, finals[next_final].param);
    }
    return c->err;
}

void wb_tape_discard(wb_context *c) {
    for (wb_tape_node *n = c->tape.last; n; n = n->prev) retire(c, n);
    wb_tape_clear(c);
}

void wb_tape_clear(wb_context *c) {
    c->tape.last = NULL;
    c->tape.count = 0;
}

float *wb_grad_begin(wb_context *c, wb_tensor *t) {
    if (!t->grad) {
        t->grad = wb_grad_alloc(c->s, t);
        if (!t->grad) {
            wb_ctx_fail(c, WB_ERR_NOMEM, "out of memory for a gradient of %lld floats", (long long)t->numel);
            return NULL;
        }
    }
    if (!t->grad_valid) return t->grad;
    /* A second contribution: a pool temporary that wb_grad_end adds and frees. */
    float *tmp = wb_pool_alloc(&c->s->tensors, (size_t)t->numel * sizeof(float));
    if (!tmp) wb_ctx_fail(c, WB_ERR_NOMEM, "out of memory for a gradient of %lld floats", (long long)t->numel);
    return tmp;
}

void wb_grad_end(wb_context *c, wb_tensor *t, float *buf) {
    if (!buf) return;
    if (buf != t->grad) {
        const float *src = buf;
        float *dst = t->grad;
        int64_t n = t->numel;
        if (wb_session_host_memory(c->s)) {
#pragma omp parallel for schedule(static) if (n > 65536)
            for (int64_t i = 0; i < n; i++) dst[i] += src[i];
        } else if (n > 0) {
            /* Device memory: the same sums (dst + src) by the backend's add, in place. */
            wb_bcast g = {.ndim = 1, .shape = {n}, .a_stride = {1}, .b_stride = {1}};
            c->s->backend->pointwise->binary_forward(WB_BINARY_ADD, &g, dst, src, dst);
        }
        wb_pool_free(&c->s->tensors, buf, (size_t)n * sizeof(float));
    }
    t->grad_valid = true;
}

const float *wb_grad_of(wb_context *c, wb_tensor *t) {
    if (t->grad_valid) return t->grad;
    /* Never written: a zero gradient of the right size, freed with the node. */
    if (!t->grad) t->grad = wb_grad_alloc(c->s, t);
    if (!t->grad) {
        wb_ctx_fail(c, WB_ERR_NOMEM, "out of memory for a gradient of %lld floats", (long long)t->numel);
        return NULL;
    }
    c->s->backend->zero(t->grad, (size_t)t->numel * sizeof(float));
    return t->grad;
}
