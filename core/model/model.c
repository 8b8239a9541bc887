#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../config/params.h"
#include "../plugin/plugin_guard.h"
#include "../runtime/host_copy.h"
#include "../runtime/host_maps.h"
#include "recompute.h"

static const char *const g_stage_names[] = {"backbone", "neck", "head"};
static const wb_module_kind g_stage_kinds[] = {WB_KIND_BACKBONE, WB_KIND_NECK, WB_KIND_HEAD};

static const char *kind_name(wb_module_kind k) {
    switch (k) {
    case WB_KIND_BACKBONE: return "backbone";
    case WB_KIND_NECK: return "neck";
    case WB_KIND_HEAD: return "head";
    case WB_KIND_LOSS: return "loss";
    default: return "dataset";
    }
}

/* Copies a module context's error into err with the module named. */
static wb_status module_error(wb_module_slot *slot, const char *during, char *err, size_t n) {
    snprintf(err, n, "%s '%s' (type %s): %s failed: %s", kind_name(slot->desc->kind),
             slot->ctx.path, slot->desc->type_name, during,
             slot->ctx.msg[0] ? slot->ctx.msg : "no message was set");
    return slot->ctx.err != WB_OK ? slot->ctx.err : WB_ERR_INTERNAL;
}

/* Each declared output is checked where it is declared, so a bad spec is
 * blamed on the module that declared it, not on the next one that reads it.
 * Backbone and neck outputs are feature maps (stride >= 1); a head's or a
 * loss's may be flat (stride 0). */
static wb_status check_specs(const wb_module_slot *slot, char *err, size_t n) {
    const wb_module_desc *d = slot->desc;
    for (int i = 0; i < slot->n_out; i++) {
        const wb_feature_spec *sp = &slot->out_specs[i];
        if (!memchr(sp->name, '\0', sizeof sp->name)) {
            snprintf(err, n, "%s '%s' (type %s) declares output %d with a name of %zu or more characters (the "
                     "plugin's output_specs is wrong)", kind_name(d->kind), slot->ctx.path, d->type_name, i,
                     sizeof sp->name);
            return WB_ERR_INVALID;
        }
        int min_stride = d->kind == WB_KIND_HEAD || d->kind == WB_KIND_LOSS ? 0 : 1;
        if (sp->channels < 1 || sp->stride < min_stride) {
            snprintf(err, n, "%s '%s' (type %s) declares output %d '%s' with %d channels at stride %d; channels must "
                     "be >= 1 and stride >= %d%s (check its parameters; if they are sensible, the plugin's "
                     "output_specs is wrong)", kind_name(d->kind), slot->ctx.path, d->type_name, i, sp->name,
                     sp->channels, sp->stride, min_stride, min_stride ? ": its outputs are feature maps" : "");
            return WB_ERR_INVALID;
        }
    }
    return WB_OK;
}

wb_status wb_slot_create(wb_module_slot *slot, wb_session *s, const wb_module_desc *desc, const char *path,
                         const wb_params *params, const wb_feature_spec *in, int n_in, char *err, size_t n) {
    memset(slot, 0, sizeof *slot);
    slot->desc = desc;
    wb_context_init(&slot->ctx, s, path, false);
    memcpy(slot->in_specs, in, (size_t)n_in * sizeof *in);
    slot->n_in = n_in;
    const wb_module_vtable *vt = desc->module;
    wb_status st;
    WB_PLUGIN_CALL(desc, "create", path, st = vt->create(&slot->ctx.pub, params, in, n_in, &slot->instance));
    if (st != WB_OK || !slot->instance) {
        if (slot->ctx.err == WB_OK) wb_ctx_fail(&slot->ctx, st ? st : WB_ERR_INTERNAL, "create returned no instance");
        slot->instance = NULL;
        return module_error(slot, "create", err, n);
    }
    WB_PLUGIN_CALL(desc, "output_specs", path,
                   slot->n_out = vt->output_specs(slot->instance, slot->out_specs, WB_MAX_FEATURES));
    if (slot->n_out <= 0 || slot->n_out > WB_MAX_FEATURES) {
        snprintf(err, n, "%s '%s' (type %s) declares %d outputs (expected 1..%d)", kind_name(desc->kind), path,
                 desc->type_name, slot->n_out, WB_MAX_FEATURES);
        return WB_ERR_INVALID;
    }
    if ((st = check_specs(slot, err, n)) != WB_OK) return st;
    if (vt->init_params)
        WB_PLUGIN_CALL(desc, "init_params", path, st = vt->init_params(slot->instance, &slot->ctx.pub));
    if (st != WB_OK || slot->ctx.err != WB_OK) return module_error(slot, "init_params", err, n);
    return WB_OK;
}

void wb_slot_destroy(wb_module_slot *slot) {
    free(slot->recompute);
    slot->recompute = NULL;
    if (slot->instance && slot->desc->module->destroy)
        WB_PLUGIN_CALL(slot->desc, "destroy", slot->ctx.path, slot->desc->module->destroy(slot->instance));
    slot->instance = NULL;
}

static wb_status build_stage(wb_model *m, int kind_index, const wb_params *section,
                             const wb_feature_spec *in, int n_in, char *err, size_t n) {
    wb_session *s = m->s;
    const char *stage = g_stage_names[kind_index];
    const char *type = wb_params_string(section, "type");
    const wb_module_desc *desc = s->find_module ? s->find_module(s->find_user, g_stage_kinds[kind_index], type) : NULL;
    if (!desc || !desc->module) {
        snprintf(err, n, "model.%s: no %s module of type '%s' is loaded (see `workbench plugins`)",
                 stage, stage, type ? type : "(none)");
        return WB_ERR_INVALID;
    }
    wb_module_slot *slot = &m->stage[m->n_stages];
    wb_status st = wb_slot_create(slot, s, desc, stage, section, in, n_in, err, n);
    if (slot->instance) m->n_stages++; /* from here on wb_model_destroy owns it */
    return st;
}

/* Creates the stages in order; with a probe image, each stage's forward
 * runs (after the gate) and its outputs are checked before the next stage is
 * created. */
static wb_status build(wb_session *s, const wb_params *model, wb_tensor *image, wb_stage_gate gate, void *user,
                       wb_model **out, char *err, size_t n) {
    wb_model *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, n, "out of memory building the model");
        return WB_ERR_NOMEM;
    }
    m->s = s;
    wb_feature_spec image_spec = {"image", 3, 1};
    const wb_feature_spec *in = &image_spec;
    wb_tensor *const *x = &image;
    int n_in = 1;
    wb_status st = WB_OK;
    for (int k = 0; k < 3 && st == WB_OK; k++) {
        if (!wb_params_has(model, g_stage_names[k])) {
            if (k == 1) continue; /* the neck is optional */
            snprintf(err, n, "model.%s is missing", g_stage_names[k]);
            st = WB_ERR_INVALID;
            break;
        }
        st = build_stage(m, k, wb_params_section(model, g_stage_names[k]), in, n_in, err, n);
        if (st != WB_OK) break;
        wb_module_slot *slot = &m->stage[m->n_stages - 1];
        if (image && gate) st = gate(user, m, err, n);
        if (image && st == WB_OK)
            st = wb_slot_forward(slot, x, n_in, image->shape[2], image->shape[3], false, err, n);
        in = slot->out_specs;
        x = slot->out;
        n_in = slot->n_out;
    }
    if (st != WB_OK) {
        wb_model_destroy(m);
        return st;
    }
    *out = m;
    return WB_OK;
}

wb_status wb_model_build(wb_session *s, const wb_params *model, wb_model **out, char *err, size_t n) {
    return build(s, model, NULL, NULL, NULL, out, err, n);
}

wb_status wb_model_build_probed(wb_session *s, const wb_params *model, wb_tensor *image, wb_stage_gate gate,
                                void *user, wb_model **out, char *err, size_t n) {
    return build(s, model, image, gate, user, out, err, n);
}

void wb_model_destroy(wb_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_stages; i++) wb_slot_destroy(&m->stage[i]);
    free(m);
}

wb_module_slot *wb_model_head(wb_model *m) { return &m->stage[m->n_stages - 1]; }

/* A forward must return what the module declared: count, channels, and a
 * spatial size that matches its stride. A loss returns its declared number of
 * outputs, but their shape follows its inputs and its reduction. */
static wb_status check_outputs(wb_module_slot *slot, int64_t image_h, int64_t image_w, char *err, size_t n) {
    bool is_loss = slot->desc->kind == WB_KIND_LOSS;
    for (int i = 0; i < slot->n_out; i++) {
        const wb_tensor *t = slot->out[i];
        const wb_feature_spec *sp = &slot->out_specs[i];
        char shape[96] = "NULL";
        if (t) wb_shape_str(t, shape, sizeof shape);
        bool ok = t && (is_loss || (t->ndim >= 2 && t->shape[1] == sp->channels));
        if (ok && !is_loss && sp->stride > 0 && t->ndim == 4) {
            double eh = (double)image_h / sp->stride, ew = (double)image_w / sp->stride;
            ok = (t->shape[2] == (int64_t)floor(eh) || t->shape[2] == (int64_t)ceil(eh)) &&
                 (t->shape[3] == (int64_t)floor(ew) || t->shape[3] == (int64_t)ceil(ew));
        }
        if (!ok) {
            snprintf(err, n, "%s '%s' (type %s) declared output %d '%s' with %d channels at stride %d, "
                     "but forward returned %s for an input of %lldx%lld; the plugin's output_specs and "
                     "forward disagree", kind_name(slot->desc->kind), slot->ctx.path,
                     slot->desc->type_name, i, sp->name, sp->channels, sp->stride, shape,
                     (long long)image_h, (long long)image_w);
            return WB_ERR_INVALID;
        }
    }
    return WB_OK;
}

wb_status wb_slot_forward(wb_module_slot *slot, wb_tensor *const *in, int n_in, int64_t image_h, int64_t image_w,
                          bool train, char *err, size_t n) {
    uint64_t rng_before = slot->ctx.rng;
    wb_status st = wb_slot_run_forward(slot, in, n_in, image_h, image_w, train, err, n);
    if (st == WB_OK && train && slot->recompute) wb_recompute_forget(slot, rng_before, n_in, image_h, image_w);
    return st;
}

wb_status wb_slot_run_forward(wb_module_slot *slot, wb_tensor *const *in, int n_in, int64_t image_h,
                              int64_t image_w, bool train, char *err, size_t n) {
    wb_tape_clear(&slot->ctx);
    wb_ctx_clear_error(&slot->ctx);
    slot->ctx.grad_enabled = train;
    memcpy(slot->in, in, (size_t)n_in * sizeof *in);
    memset(slot->out, 0, sizeof slot->out);
    wb_ctx_track_created(&slot->ctx);
    wb_status st;
    WB_PLUGIN_CALL(slot->desc, "forward", slot->ctx.path,
                   st = slot->desc->module->forward(slot->instance, &slot->ctx.pub, slot->in, n_in, slot->out,
                                                    slot->n_out));
    /* A hand-written backward may read anything its forward made: then
     * nothing is released before the iteration ends. */
    if (train && (slot->desc->caps & WB_CAP_CUSTOM_BACKWARD))
        wb_ctx_stop_tracking(&slot->ctx);
    else {
        wb_ctx_release_created(&slot->ctx, slot->out, slot->n_out);
        if (train) wb_tape_shed(&slot->ctx);
    }
    if (st != WB_OK || slot->ctx.err != WB_OK) {
        if (slot->ctx.err == WB_OK) wb_ctx_fail(&slot->ctx, st, "forward returned status %d", (int)st);
        return module_error(slot, "forward", err, n);
    }
    return check_outputs(slot, image_h, image_w, err, n);
}

wb_status wb_model_forward(wb_model *m, wb_tensor *images, bool train, char *err, size_t n) {
    wb_tensor *const *in = &images;
    int n_in = 1;
    for (int i = 0; i < m->n_stages; i++) {
        wb_module_slot *slot = &m->stage[i];
        wb_status st = wb_slot_forward(slot, in, n_in, images->shape[2], images->shape[3], train, err, n);
        if (st != WB_OK) return st;
        in = slot->out;
        n_in = slot->n_out;
    }
    return WB_OK;
}

wb_status wb_slot_loss(wb_module_slot *head, const wb_batch_truth *truth, int64_t iteration, wb_loss_term *terms,
                       int *n_terms, char *err, size_t n) {
    if (!head->desc->module->loss) {
        snprintf(err, n, "head type %s has no loss(): it cannot be trained", head->desc->type_name);
        return WB_ERR_UNSUPPORTED;
    }
    *n_terms = 0;
    wb_ctx_track_created(&head->ctx);
    wb_status st;
    WB_PLUGIN_CALL(head->desc, "loss", head->ctx.path,
                   st = head->desc->module->loss(head->instance, &head->ctx.pub, head->out, head->n_out, truth,
                                                 terms, n_terms));
    wb_tensor *values[WB_MAX_LOSS_TERMS];
    int n_values = *n_terms > 0 && *n_terms <= WB_MAX_LOSS_TERMS ? *n_terms : 0;
    for (int i = 0; i < n_values; i++) values[i] = terms[i].value;
    wb_ctx_release_created(&head->ctx, values, n_values);
    if (st != WB_OK || head->ctx.err != WB_OK) return module_error(head, "loss", err, n);
    if (*n_terms <= 0 || *n_terms > WB_MAX_LOSS_TERMS) {
        snprintf(err, n, "head type %s returned %d loss terms (expected 1..%d)", head->desc->type_name,
                 *n_terms, WB_MAX_LOSS_TERMS);
        return WB_ERR_INVALID;
    }
    for (int i = 0; i < *n_terms; i++) {
        wb_tensor *v = terms[i].value;
        if (!v || v->numel != 1) {
            snprintf(err, n, "head type %s: loss term '%s' is not a single value", head->desc->type_name,
                     terms[i].name);
            return WB_ERR_INVALID;
        }
        float value = wb_host_read_value(head->ctx.s->backend, v->data);
        if (!isfinite(value)) {
            snprintf(err, n, "loss term '%s' of head '%s' (type %s) is %s at iteration %lld",
                     terms[i].name, head->ctx.path, head->desc->type_name,
                     isnan(value) ? "NaN" : "Inf", (long long)iteration);
            return WB_ERR_NUMERIC;
        }
    }
    return WB_OK;
}

wb_status wb_model_loss(wb_model *m, const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms,
                        char *err, size_t n) {
    return wb_slot_loss(wb_model_head(m), truth, m->iteration, terms, n_terms, err, n);
}

/* A custom-backward module: hand it the output gradients, accumulate what it
 * returns into its inputs. */
static wb_status custom_backward(wb_module_slot *slot) {
    wb_context *c = &slot->ctx;
    wb_tensor *dout[WB_MAX_FEATURES], *din[WB_MAX_FEATURES] = {0};
    for (int i = 0; i < slot->n_out; i++) {
        dout[i] = wb_ctx_tensor_header(c, slot->out[i]->ndim, slot->out[i]->shape);
        if (!dout[i]) return c->err;
        dout[i]->data = (float *)wb_grad_of(c, slot->out[i]);
    }
    wb_status st = slot->desc->module->backward(slot->instance, &c->pub, dout, slot->n_out, din, slot->n_in);
    if (st != WB_OK) return c->err != WB_OK ? c->err : wb_ctx_fail(c, st, "backward returned status %d", (int)st);
    if (c->s->n_maps) wb_host_maps_flush(c->s, din, slot->n_in); /* gradients written through tensor_map */
    for (int i = 0; i < slot->n_in; i++) {
        if (!din[i] || !slot->in[i]->requires_grad) continue;
        if (!wb_shape_equal(din[i], slot->in[i]))
            return wb_ctx_fail(c, WB_ERR_INVALID, "backward returned a gradient for input %d of another shape", i);
        float *g = wb_grad_begin(c, slot->in[i]);
        if (!g) return c->err;
        c->s->backend->copy(g, din[i]->data, (size_t)din[i]->numel * sizeof(float));
        wb_grad_end(c, slot->in[i], g);
    }
    return WB_OK;
}

wb_status wb_slot_backward(wb_module_slot *slot, char *err, size_t n) {
    if (slot->recompute && slot->recompute->pending) {
        wb_status rc = wb_recompute_rebuild(slot, err, n);
        if (rc != WB_OK) return rc;
    }
    /* The tape replays the module's own backward functions too (record_custom). */
    wb_status st;
    WB_PLUGIN_CALL(slot->desc, "backward", slot->ctx.path,
                   st = (slot->desc->caps & WB_CAP_CUSTOM_BACKWARD) && slot->desc->module->backward
                            ? custom_backward(slot)
                            : wb_tape_backward(&slot->ctx));
    return st == WB_OK ? WB_OK : module_error(slot, "backward", err, n);
}

bool wb_term_is_loss(const char *name) { return strstr(name, "loss") != NULL; }

/* d(seed * sum of the terms)/d(term) = seed for every trained term. */
static wb_status seed_loss_grads(wb_module_slot *head, wb_loss_term *terms, int n_terms, float seed, char *err,
                                 size_t n) {
    for (int i = 0; i < n_terms; i++) {
        wb_tensor *v = terms[i].value;
        if (!v->requires_grad || !wb_term_is_loss(terms[i].name)) continue;
        float *g = wb_grad_begin(&head->ctx, v);
        if (!g) return module_error(head, "backward", err, n);
        head->ctx.s->backend->upload(g, &seed, sizeof seed);
        wb_grad_end(&head->ctx, v, g);
    }
    return WB_OK;
}

wb_status wb_slot_seed_loss_grads(wb_module_slot *head, wb_loss_term *terms, int n_terms, char *err, size_t n) {
    return seed_loss_grads(head, terms, n_terms, 1.0f, err, n);
}

wb_status wb_slot_replay(wb_module_slot *slot, char *err, size_t n) {
    wb_status st;
    WB_PLUGIN_CALL(slot->desc, "backward", slot->ctx.path, st = wb_tape_backward(&slot->ctx));
    return st == WB_OK ? WB_OK : module_error(slot, "backward", err, n);
}

wb_status wb_model_backward_scaled(wb_model *m, wb_loss_term *terms, int n_terms, float loss_scale, char *err,
                                   size_t n) {
    wb_status st = seed_loss_grads(wb_model_head(m), terms, n_terms, loss_scale, err, n);
    for (int i = m->n_stages - 1; i >= 0 && st == WB_OK; i--) st = wb_slot_backward(&m->stage[i], err, n);
    return st;
}

wb_status wb_model_backward(wb_model *m, wb_loss_term *terms, int n_terms, char *err, size_t n) {
    return wb_model_backward_scaled(m, terms, n_terms, 1.0f, err, n);
}

wb_status wb_model_predict(wb_model *m, const wb_batch_truth *meta, wb_detections *dets, char *err,
                           size_t n) {
    wb_module_slot *head = wb_model_head(m);
    if (!head->desc->module->predict) {
        snprintf(err, n, "head type %s has no predict(): it cannot be evaluated", head->desc->type_name);
        return WB_ERR_UNSUPPORTED;
    }
    for (int i = 0; i < meta->batch; i++) {
        memset(&dets[i], 0, sizeof dets[i]);
        dets[i].struct_size = sizeof dets[i];
    }
    wb_status st;
    WB_PLUGIN_CALL(head->desc, "predict", head->ctx.path,
                   st = head->desc->module->predict(head->instance, &head->ctx.pub, head->out, head->n_out, meta,
                                                    dets));
    if (st != WB_OK || head->ctx.err != WB_OK) return module_error(head, "predict", err, n);
    return WB_OK;
}

void wb_model_release_detections(wb_model *m, wb_detections *dets, int n) {
    wb_module_slot *head = wb_model_head(m);
    for (int i = 0; i < n; i++)
        if (head->desc->module->release_detections)
            WB_PLUGIN_CALL(head->desc, "release_detections", head->ctx.path,
                           head->desc->module->release_detections(head->instance, &dets[i]));
}

void wb_model_end_iteration(wb_model *m) {
    for (int i = 0; i < m->n_stages; i++) {
        wb_tape_clear(&m->stage[i].ctx);
        if (m->stage[i].recompute) m->stage[i].recompute->pending = false;
        wb_ctx_clear_error(&m->stage[i].ctx);
        memset(m->stage[i].in, 0, sizeof m->stage[i].in);
        memset(m->stage[i].out, 0, sizeof m->stage[i].out);
    }
    m->iteration++;
}
