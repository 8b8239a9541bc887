#include "submodule.h"

#include <stdio.h>
#include <string.h>
#include "../config/params.h"
#include "model.h"
#include "../plugin/plugin_guard.h"
#include "../runtime/context.h"

struct wb_submodule {
    const wb_module_desc *desc;
    void *instance;
    int n_out;
    wb_feature_spec specs[WB_MAX_FEATURES];
    char path[WB_PATH_MAX];
};

static const wb_module_desc *find_any_kind(wb_session *s, const char *type) {
    static const wb_module_kind kinds[] = {WB_KIND_LOSS, WB_KIND_HEAD, WB_KIND_NECK, WB_KIND_BACKBONE};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && s->find_module; i++) {
        const wb_module_desc *d = s->find_module(s->find_user, kinds[i], type);
        if (d && d->module) return d;
    }
    return NULL;
}

/* Runs fn with the context's path extended by the child's name, so the
 * child's parameters are named "head.loss_cls.xxx". */
static void enter(wb_context *c, const char *name, char *saved) {
    memcpy(saved, c->path, WB_PATH_MAX);
    size_t len = strlen(c->path);
    snprintf(c->path + len, WB_PATH_MAX - len, "%s%s", len ? "." : "", name);
}

static void leave(wb_context *c, const char *saved) { memcpy(c->path, saved, WB_PATH_MAX); }

static void destroy_instance(void *arg) {
    wb_submodule *m = arg;
    if (m->instance && m->desc->module->destroy)
        WB_PLUGIN_CALL(m->desc, "destroy", m->path, m->desc->module->destroy(m->instance));
}

wb_submodule *wb_submodule_create(wb_ctx *ctx, const wb_params *section, const char *name,
                                  const wb_feature_spec *in, int n_in) {
    wb_context *c = wb_ctx_impl(ctx);
    if (c->err != WB_OK) return NULL;
    const char *type = section ? wb_params_string(section, "type") : NULL;
    if (!type || !name) {
        wb_ctx_fail(c, WB_ERR_INVALID, "submodule_create: needs a section with a type and a name");
        return NULL;
    }
    const wb_module_desc *desc = find_any_kind(c->s, type);
    if (!desc) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s.%s: no module of type '%s' is loaded (see `workbench plugins`)",
                    c->path, name, type);
        return NULL;
    }
    wb_submodule *m = wb_arena_calloc(&c->s->weights, sizeof *m);
    if (!m) {
        wb_ctx_fail(c, WB_ERR_NOMEM, "out of memory creating submodule %s", name);
        return NULL;
    }
    m->desc = desc;
    char saved[WB_PATH_MAX];
    enter(c, name, saved);
    snprintf(m->path, sizeof m->path, "%s", c->path);
    wb_status st;
    WB_PLUGIN_CALL(desc, "create", m->path, st = desc->module->create(ctx, section, in, n_in, &m->instance));
    /* The session destroys the instance when it ends. */
    if (st == WB_OK && m->instance && !wb_session_on_destroy(c->s, destroy_instance, m)) {
        destroy_instance(m);
        m->instance = NULL;
        st = wb_ctx_fail(c, WB_ERR_NOMEM, "out of memory creating submodule %s", name);
    }
    if (st == WB_OK && m->instance) {
        WB_PLUGIN_CALL(desc, "output_specs", m->path,
                       m->n_out = desc->module->output_specs(m->instance, m->specs, WB_MAX_FEATURES));
        if (desc->module->init_params)
            WB_PLUGIN_CALL(desc, "init_params", m->path, st = desc->module->init_params(m->instance, ctx));
    }
    leave(c, saved);
    if (st != WB_OK || !m->instance || c->err != WB_OK) {
        if (c->err == WB_OK) wb_ctx_fail(c, WB_ERR_INTERNAL, "%s: create of %s failed", m->path, type);
        return NULL;
    }
    return m;
}

/* Every live sub-module has registered its destroy_instance with the
 * session, so the session's cleanup list is the list of sub-modules. */
int wb_submodule_list(const wb_session *s, wb_submodule_info *out, int max) {
    int n = 0;
    for (const wb_cleanup *c = s->cleanups; c; c = c->next)
        if (c->fn == destroy_instance) n++;
    int i = n;
    for (const wb_cleanup *c = s->cleanups; c; c = c->next) {
        if (c->fn != destroy_instance || --i >= max) continue; /* the list is newest first */
        const wb_submodule *m = c->arg;
        out[i] = (wb_submodule_info){m->path, m->desc};
    }
    return n;
}

wb_status wb_submodule_forward(wb_ctx *ctx, wb_submodule *m, wb_tensor *const *in, int n_in,
                               wb_tensor **out, int n_out) {
    wb_context *c = wb_ctx_impl(ctx);
    if (c->err != WB_OK) return c->err;
    if (!m) return wb_ctx_fail(c, WB_ERR_INVALID, "submodule_forward: submodule is NULL");
    if (n_out != m->n_out)
        return wb_ctx_fail(c, WB_ERR_INVALID, "%s: asked for %d outputs, the module declares %d", m->path,
                           n_out, m->n_out);
    char saved[WB_PATH_MAX];
    enter(c, strrchr(m->path, '.') ? strrchr(m->path, '.') + 1 : m->path, saved);
    wb_status st;
    WB_PLUGIN_CALL(m->desc, "forward", m->path, st = m->desc->module->forward(m->instance, ctx, in, n_in, out, n_out));
    leave(c, saved);
    if (st != WB_OK && c->err == WB_OK) wb_ctx_fail(c, st, "%s: forward failed", m->path);
    return c->err;
}

int wb_submodule_output_specs(wb_submodule *m, wb_feature_spec *out, int max_out) {
    if (!m) return 0;
    int n = m->n_out < WB_MAX_FEATURES ? m->n_out : WB_MAX_FEATURES;
    memcpy(out, m->specs, (size_t)(n < max_out ? n : max_out) * sizeof *out);
    return m->n_out;
}

/* A head's loss or predict on the parent's context (and tape): a two-stage
 * head calls its RPN's. Checks what the core checks of a model's head. */
static wb_status need_head_method(wb_context *c, wb_submodule *m, const void *fn, const char *method) {
    if (!m) return wb_ctx_fail(c, WB_ERR_INVALID, "submodule_%s: submodule is NULL", method);
    if (m->desc->kind != WB_KIND_HEAD || !fn)
        return wb_ctx_fail(c, WB_ERR_INVALID, "%s (type %s) is not a head with %s(); only heads can be asked for "
                           "their %s", m->path, m->desc->type_name, method, method);
    return WB_OK;
}

wb_status wb_submodule_loss(wb_ctx *ctx, wb_submodule *m, wb_tensor *const *preds, int n_preds,
                            const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms) {
    wb_context *c = wb_ctx_impl(ctx);
    *n_terms = 0;
    if (c->err != WB_OK) return c->err;
    if (need_head_method(c, m, m ? (const void *)m->desc->module->loss : NULL, "loss") != WB_OK) return c->err;
    char saved[WB_PATH_MAX];
    enter(c, strrchr(m->path, '.') ? strrchr(m->path, '.') + 1 : m->path, saved);
    wb_status st;
    WB_PLUGIN_CALL(m->desc, "loss", m->path,
                   st = m->desc->module->loss(m->instance, ctx, preds, n_preds, truth, terms, n_terms));
    leave(c, saved);
    if (st != WB_OK && c->err == WB_OK) wb_ctx_fail(c, st, "%s: loss failed", m->path);
    if (c->err == WB_OK && (*n_terms < 1 || *n_terms > WB_MAX_LOSS_TERMS))
        wb_ctx_fail(c, WB_ERR_INVALID, "%s (type %s) returned %d loss terms (expected 1..%d)", m->path,
                    m->desc->type_name, *n_terms, WB_MAX_LOSS_TERMS);
    return c->err;
}

wb_status wb_submodule_predict(wb_ctx *ctx, wb_submodule *m, wb_tensor *const *preds, int n_preds,
                               const wb_batch_truth *meta, wb_detections *dets) {
    wb_context *c = wb_ctx_impl(ctx);
    if (c->err != WB_OK) return c->err;
    if (need_head_method(c, m, m ? (const void *)m->desc->module->predict : NULL, "predict") != WB_OK) return c->err;
    for (int i = 0; i < meta->batch; i++) {
        memset(&dets[i], 0, sizeof dets[i]);
        dets[i].struct_size = sizeof dets[i];
    }
    char saved[WB_PATH_MAX];
    enter(c, strrchr(m->path, '.') ? strrchr(m->path, '.') + 1 : m->path, saved);
    wb_status st;
    WB_PLUGIN_CALL(m->desc, "predict", m->path,
                   st = m->desc->module->predict(m->instance, ctx, preds, n_preds, meta, dets));
    leave(c, saved);
    if (st != WB_OK && c->err == WB_OK) wb_ctx_fail(c, st, "%s: predict failed", m->path);
    return c->err;
}

void wb_submodule_release_detections(wb_submodule *m, wb_detections *dets, int n) {
    if (!m || !m->desc->module->release_detections) return;
    for (int i = 0; i < n; i++)
        WB_PLUGIN_CALL(m->desc, "release_detections", m->path, m->desc->module->release_detections(m->instance, &dets[i]));
}
