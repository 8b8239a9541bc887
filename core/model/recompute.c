#include "recompute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../autograd/tape.h"
#include "../config/params.h"
#include "../runtime/tensor_refs.h"

static wb_module_slot *stage_named(wb_model *m, const char *name) {
    for (int i = 0; i < m->n_stages; i++)
        if (strcmp(m->stage[i].ctx.path, name) == 0) return &m->stage[i];
    return NULL;
}

static bool is_buffer_of(const wb_param_entry *e, const char *path) {
    size_t len = strlen(path);
    return e->is_buffer && strncmp(e->name, path, len) == 0 && e->name[len] == '.';
}

static wb_status enable(wb_module_slot *slot, char *err, size_t n) {
    if (slot->recompute) return WB_OK;
    if (slot->desc->caps & WB_CAP_CUSTOM_BACKWARD) {
        snprintf(err, n, "train.recompute.modules: %s '%s' (type %s) has a hand-written backward, which may read "
                 "anything its forward made, so its forward cannot forget what it saved; remove '%s' from the list",
                 slot->ctx.path, slot->ctx.path, slot->desc->type_name, slot->ctx.path);
        return WB_ERR_INVALID;
    }
    wb_session *s = slot->ctx.s;
    int count = 0;
    for (int i = 0; i < s->n_params; i++) count += is_buffer_of(&s->params[i], slot->ctx.path);
    wb_recompute *r = calloc(1, sizeof *r + (size_t)count * sizeof r->buffers[0]);
    if (!r) {
        snprintf(err, n, "train.recompute: out of memory");
        return WB_ERR_NOMEM;
    }
    for (int i = 0; i < s->n_params; i++)
        if (is_buffer_of(&s->params[i], slot->ctx.path)) r->buffers[r->n_buffers++] = s->params[i].tensor;
    slot->recompute = r;
    return WB_OK;
}

wb_status wb_model_configure_recompute(wb_model *m, const wb_params *section, char *err, size_t n) {
    int names = section ? wb_params_list_len(section, "modules") : 0;
    for (int i = 0; i < names; i++) {
        const char *name = wb_params_string_at(section, "modules", i);
        wb_module_slot *slot = stage_named(m, name);
        bool has_neck = m->n_stages == 3;
        if (!slot || slot == wb_model_head(m)) {
            snprintf(err, n, "train.recompute.modules: '%s' %s: name %s", name,
                     slot ? "cannot be recomputed (the head's loss() adds to its tape after forward)"
                          : "is not a stage of this model",
                     has_neck ? "\"backbone\" and/or \"neck\"" : "\"backbone\" (this model has no neck)");
            return WB_ERR_INVALID;
        }
        wb_status st = enable(slot, err, n);
        if (st != WB_OK) return st;
    }
    return WB_OK;
}

void wb_recompute_forget(wb_module_slot *slot, uint64_t rng_before, int n_in, int64_t image_h, int64_t image_w) {
    wb_recompute *r = slot->recompute;
    r->pending = slot->ctx.tape.count > 0; /* nothing to redo where nothing was recorded (a frozen stage) */
    r->rng_before = rng_before;
    r->n_in = n_in;
    r->image_h = image_h;
    r->image_w = image_w;
    wb_tape_discard(&slot->ctx);
}

static size_t buffer_bytes(const wb_recompute *r) {
    size_t bytes = 0;
    for (int i = 0; i < r->n_buffers; i++) bytes += (size_t)r->buffers[i]->numel * sizeof(float);
    return bytes;
}

/* Copies the buffers into saved (save) or back from it. */
static void copy_buffers(wb_session *s, const wb_recompute *r, float *saved, bool save) {
    for (int i = 0; i < r->n_buffers; i++) {
        wb_tensor *b = r->buffers[i];
        size_t bytes = (size_t)b->numel * sizeof(float);
        if (save)
            s->backend->copy(saved, b->data, bytes);
        else
            s->backend->copy(b->data, saved, bytes);
        saved += b->numel;
    }
}

/* The gradient the later stages left on the first forward's output goes to
 * the second's, and the first's output dies (nothing reads it any more). */
static void move_gradient(wb_session *s, wb_tensor *from, wb_tensor *to) {
    to->grad = from->grad;
    to->grad_valid = from->grad_valid;
    from->grad = NULL;
    from->grad_valid = false;
    wb_tensor_release(s, from);
}

wb_status wb_recompute_rebuild(wb_module_slot *slot, char *err, size_t n) {
    wb_recompute *r = slot->recompute;
    wb_session *s = slot->ctx.s;
    r->pending = false;
    wb_tensor *in[WB_MAX_FEATURES], *first_out[WB_MAX_FEATURES];
    memcpy(in, slot->in, sizeof in);
    memcpy(first_out, slot->out, sizeof first_out);
    size_t bytes = buffer_bytes(r);
    float *saved = bytes ? wb_pool_alloc(&s->tensors, bytes) : NULL;
    if (bytes && !saved) {
        snprintf(err, n, "%s: out of memory saving %zu bytes of buffers to recompute its forward", slot->ctx.path,
                 bytes);
        return WB_ERR_NOMEM;
    }
    copy_buffers(s, r, saved, true);
    uint64_t rng_after = slot->ctx.rng;
    slot->ctx.rng = r->rng_before;
    wb_status st = wb_slot_run_forward(slot, in, r->n_in, r->image_h, r->image_w, true, err, n);
    slot->ctx.rng = rng_after;
    copy_buffers(s, r, saved, false);
    if (saved) wb_pool_free(&s->tensors, saved, bytes);
    if (st != WB_OK) return st;
    for (int i = 0; i < slot->n_out; i++)
        if (first_out[i] && slot->out[i] && first_out[i] != slot->out[i]) move_gradient(s, first_out[i], slot->out[i]);
    return WB_OK;
}
