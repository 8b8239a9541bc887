/* Custom ops on the tape. Both recording entries make the same node: the
 * plugin's backward (either signature), its state, and the tensors whose
 * data it reads, held by the node until it has run. */
#include "custom_op.h"

#include <string.h>
#include "../runtime/context.h"
#include "../runtime/host_maps.h"
#include "tape.h"

typedef struct custom_node {
    wb_custom_backward_fn fn;        /* record_custom */
    wb_custom_op_backward_fn op_fn;  /* record_custom_op */
    void *state;
    wb_tensor **saved;
    int n_saved;
} custom_node;

static wb_status call_backward(wb_context *c, wb_tape_node *node, wb_tensor **douts, wb_tensor **dins) {
    const custom_node *cn = node->saved;
    if (cn->op_fn)
        return cn->op_fn(&c->pub, cn->state, node->in, node->n_in, cn->saved, cn->n_saved, douts, node->n_out,
                         dins);
    return cn->fn(&c->pub, cn->state, node->in, node->n_in, douts, node->n_out, dins);
}

static wb_status add_gradients(wb_context *c, wb_tape_node *node, wb_tensor *const *dins) {
    /* A gradient the backward wrote through tensor_map without unmapping it
     * reaches the device first, as the CPU backend's in-place map would. */
    if (c->s->n_maps) wb_host_maps_flush(c->s, dins, node->n_in);
    for (int i = 0; i < node->n_in; i++) {
        wb_tensor *in = node->in[i];
        if (!dins[i] || !in->requires_grad) continue;
        if (!wb_shape_equal(dins[i], in)) {
            char a[96], b[96];
            return wb_ctx_fail(c, WB_ERR_INVALID, "custom op %s: gradient of input %d has shape %s, input has %s",
                               node->op, i, wb_shape_str(dins[i], a, sizeof a), wb_shape_str(in, b, sizeof b));
        }
        float *g = wb_grad_begin(c, in);
        if (!g) return c->err;
        c->s->backend->copy(g, dins[i]->data, (size_t)in->numel * sizeof(float));
        wb_grad_end(c, in, g);
    }
    return WB_OK;
}

static wb_status custom_backward(wb_context *c, wb_tape_node *node) {
    wb_tensor **douts = wb_ctx_scratch(c, (size_t)(node->n_out ? node->n_out : 1) * sizeof *douts);
    wb_tensor **dins = wb_ctx_scratch(c, (size_t)(node->n_in ? node->n_in : 1) * sizeof *dins);
    if (!douts || !dins) return c->err;
    for (int i = 0; i < node->n_out; i++) {
        wb_tensor *o = node->out[i];
        douts[i] = wb_ctx_tensor_header(c, o->ndim, o->shape);
        if (!douts[i]) return c->err;
        douts[i]->data = (float *)wb_grad_of(c, o);
        if (!douts[i]->data) return c->err;
    }
    for (int i = 0; i < node->n_in; i++) dins[i] = NULL;
    /* Nothing the backward computes is recorded (no double backward), and
     * every tensor it makes is released once its gradients are added. */
    bool grad_was = c->grad_enabled, tracking_was = c->tracking;
    wb_tensor *created_was = c->created;
    c->grad_enabled = false;
    wb_ctx_track_created(c);
    wb_status st = call_backward(c, node, douts, dins);
    c->grad_enabled = grad_was;
    if (st == WB_OK && c->err == WB_OK) st = add_gradients(c, node, dins);
    wb_ctx_release_created(c, NULL, 0);
    c->created = created_was;
    c->tracking = tracking_was;
    return st != WB_OK ? st : c->err;
}

static char *arena_strdup(wb_context *c, const char *s) {
    size_t n = strlen(s) + 1;
    char *d = wb_arena_alloc(&c->s->compute, n);
    if (d) memcpy(d, s, n);
    return d;
}

/* What both entries record: keep is the tape's mask (record_custom keeps
 * all), keep_flags record_custom_op's WB_CUSTOM_KEEP_* choice. */
typedef struct custom_record {
    const char *name;
    wb_tensor *const *in;
    int n_in;
    wb_tensor *const *out;
    int n_out;
    wb_tensor *const *saved;
    int n_saved;
    unsigned keep;
    uint32_t keep_flags;
    custom_node node;
    const void *state;
    size_t state_size;
} custom_record;

static bool check_list(wb_context *c, const char *name, const char *what, wb_tensor *const *t, int n) {
    if (n < 0 || (n > 0 && !t)) {
        wb_ctx_fail(c, WB_ERR_INVALID, "custom op %s: %d %ss given as a NULL array", name, n, what);
        return false;
    }
    for (int i = 0; i < n; i++)
        if (!t[i]) {
            wb_ctx_fail(c, WB_ERR_INVALID, "custom op %s: %s %d is NULL", name, what, i);
            return false;
        }
    return true;
}

static wb_status record(wb_context *c, custom_record *r) {
    if (c->err != WB_OK) return c->err;
    const char *name = r->name ? r->name : "custom";
    if (!check_list(c, name, "input", r->in, r->n_in) || !check_list(c, name, "output", r->out, r->n_out) ||
        !check_list(c, name, "saved tensor", r->saved, r->n_saved))
        return c->err;
    if (r->n_out < 1) return wb_ctx_fail(c, WB_ERR_INVALID, "custom op %s: needs at least one output", name);
    if (!r->node.fn && !r->node.op_fn) return wb_ctx_fail(c, WB_ERR_INVALID, "custom op %s: backward is NULL", name);
    if (!wb_tape_needed(c, r->in, r->n_in)) return WB_OK;
    char *op = arena_strdup(c, name);
    if (!op) return wb_ctx_fail(c, WB_ERR_NOMEM, "custom op %s: out of memory recording the tape", name);
    wb_tape_node *node =
        wb_tape_record(c, op, custom_backward, r->in, r->n_in, r->out, r->n_out, sizeof(custom_node), r->keep);
    if (!node) return c->err;
    custom_node *cn = node->saved;
    *cn = r->node;
    if (r->state_size > 0) {
        cn->state = wb_arena_alloc(&c->s->compute, r->state_size);
        if (!cn->state) return wb_ctx_fail(c, WB_ERR_NOMEM, "custom op %s: out of memory for its state", name);
        memcpy(cn->state, r->state, r->state_size);
    }
    /* Held besides `keep`: the inputs and outputs record_custom_op was asked
     * to keep, then the saved tensors (which backward also gets). */
    int n_hold = r->n_saved + ((r->keep_flags & WB_CUSTOM_KEEP_INPUTS) ? r->n_in : 0) +
                 ((r->keep_flags & WB_CUSTOM_KEEP_OUTPUTS) ? r->n_out : 0);
    wb_tensor **hold = wb_ctx_scratch(c, (size_t)(n_hold ? n_hold : 1) * sizeof *hold);
    if (!hold) return c->err;
    int k = 0;
    for (int i = 0; (r->keep_flags & WB_CUSTOM_KEEP_INPUTS) && i < r->n_in; i++) hold[k++] = r->in[i];
    for (int i = 0; (r->keep_flags & WB_CUSTOM_KEEP_OUTPUTS) && i < r->n_out; i++) hold[k++] = r->out[i];
    for (int i = 0; i < r->n_saved; i++) hold[k++] = r->saved[i];
    if (!wb_tape_hold(c, node, hold, n_hold)) return c->err;
    cn->saved = r->n_saved ? node->held + (n_hold - r->n_saved) : NULL;
    cn->n_saved = r->n_saved;
    return WB_OK;
}

wb_status wb_host_record_custom(wb_ctx *ctx, const char *name, wb_tensor *const *inputs, int n_in,
                                wb_tensor *const *outputs, int n_out, wb_custom_backward_fn backward,
                                void *state) {
    custom_record r = {.name = name, .in = inputs, .n_in = n_in, .out = outputs, .n_out = n_out,
                       .keep = WB_KEEP_ALL, .node = {.fn = backward, .state = state}};
    return record(wb_ctx_impl(ctx), &r);
}

wb_status wb_host_record_custom_op(wb_ctx *ctx, const wb_custom_op *op) {
    wb_context *c = wb_ctx_impl(ctx);
    if (c->err != WB_OK) return c->err;
    if (!op || op->struct_size < sizeof(wb_custom_op))
        return wb_ctx_fail(c, WB_ERR_INVALID,
                           "record_custom_op: %s (struct_size %u, this host needs %zu); set struct_size = "
                           "sizeof(wb_custom_op)",
                           op ? "the wb_custom_op is too small" : "op is NULL", op ? op->struct_size : 0u,
                           sizeof(wb_custom_op));
    if (op->keep & ~(WB_CUSTOM_KEEP_INPUTS | WB_CUSTOM_KEEP_OUTPUTS))
        return wb_ctx_fail(c, WB_ERR_INVALID, "custom op %s: keep 0x%x has bits other than WB_CUSTOM_KEEP_*",
                           op->name ? op->name : "custom", op->keep);
    if (op->state_size > 0 && !op->state)
        return wb_ctx_fail(c, WB_ERR_INVALID, "custom op %s: state_size %zu with a NULL state",
                           op->name ? op->name : "custom", op->state_size);
    custom_record r = {.name = op->name, .in = op->inputs, .n_in = op->n_in, .out = op->outputs,
                       .n_out = op->n_out, .saved = op->saved, .n_saved = op->n_saved, .keep = WB_KEEP_NONE,
                       .keep_flags = op->keep, .node = {.op_fn = op->backward, .state = (void *)op->state},
                       .state = op->state, .state_size = op->state_size};
    return record(c, &r);
}
