#include "conformance.h"

#include <stdlib.h>
#include <string.h>
#include "../config/params.h"
#include "../config/schema_table.h"
#include "conformance_kit.h"
#include "module_origin.h"

static const wb_module_desc *find_module(wb_registry *reg, const char *type, FILE *out) {
    static const wb_module_kind kinds[] = {WB_KIND_BACKBONE, WB_KIND_NECK, WB_KIND_HEAD, WB_KIND_LOSS};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const wb_module_entry *e = NULL;
        char msg[2048] = "";
        wb_lookup_result r = wb_registry_lookup(reg, kinds[i], type, &e, msg, sizeof msg);
        if (r == WB_LOOKUP_FOUND) return e->desc;
        if (r == WB_LOOKUP_AMBIGUOUS) {
            fprintf(out, "error: %s\n", msg);
            return NULL;
        }
    }
    if (wb_registry_find(reg, WB_KIND_DATASET, type)) {
        fprintf(out, "error: '%s' is a dataset type: gradcheck checks modules that compute gradients; check a "
                     "dataset with `workbench check EXP.conf`\n", type);
        return NULL;
    }
    fprintf(out, "error: no backbone, neck, head or loss of type '%s' is loaded; load its plugin with "
                 "--plugin-dir DIR or WB_PLUGIN_PATH (`workbench plugins` lists what is loaded)\n", type);
    return NULL;
}

wb_session *wb_gc_session(wb_registry *reg, uint64_t seed) {
    /* The reference kernels: deterministic, and the ground truth the
     * optimized kernels are tested against. */
    wb_session *s = wb_session_create(wb_backend_ref(), seed);
    if (s) {
        s->find_module = wb_registry_find_module;
        s->find_user = reg;
    }
    return s;
}

static int parse_inputs(const char *text, wb_feature_spec *specs, int max) {
    int n = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char name[WB_NAME_MAX];
        int ch, st;
        if (n == max || sscanf(tok, "%63[^:]:%d:%d", name, &ch, &st) != 3 || ch <= 0 || st <= 0) return -1;
        snprintf(specs[n].name, sizeof specs[n].name, "%s", name);
        specs[n].channels = ch;
        specs[n].stride = st;
        n++;
    }
    return n;
}

/* Inputs when --inputs is not given: the image for a backbone, three levels
 * for a neck, and for a head one level per entry of its `strides` list (or
 * one at stride 8). */
static int default_inputs(const wb_module_desc *d, const wb_params *p, bool quick, wb_feature_spec *in) {
    if (d->kind == WB_KIND_BACKBONE) {
        in[0] = (wb_feature_spec){"image", 3, 1};
        return 1;
    }
    if (d->kind == WB_KIND_NECK) {
        for (int i = 0; i < 3; i++) {
            snprintf(in[i].name, sizeof in[i].name, "c%d", i + 3);
            in[i].channels = quick ? 8 : 16 + 8 * i;
            in[i].stride = 8 << i;
        }
        return 3;
    }
    const wb_param_schema *strides = wb_schema_find(d->params, "strides");
    int n = strides && strides->type == WB_PARAM_INT_LIST ? wb_params_list_len(p, "strides") : 0;
    if (n < 1 || n > WB_MAX_FEATURES) {
        in[0] = (wb_feature_spec){"p3", quick ? 8 : 16, 8};
        return 1;
    }
    for (int i = 0; i < n; i++) {
        in[i].stride = (int)wb_params_int_at(p, "strides", i);
        in[i].channels = quick ? 8 : 16;
        int level = 0;
        while ((1 << (level + 1)) <= in[i].stride) level++;
        snprintf(in[i].name, sizeof in[i].name, "p%d", level);
    }
    return n;
}

/* L = sum_k sum(out_k * R_k) with R from a fixed stream. */
static double objective(const wb_module_slot *slot, uint64_t seed) {
    double sum = 0.0;
    uint64_t rs = seed;
    for (int k = 0; k < slot->n_out; k++)
        for (int64_t i = 0; i < slot->out[k]->numel; i++)
            sum += (double)slot->out[k]->data[i] * (wb_rng_uniform(&rs) - 0.5);
    return sum;
}

static void seed_output_grads(wb_module_slot *slot, uint64_t seed) {
    uint64_t rs = seed;
    for (int k = 0; k < slot->n_out; k++) {
        float *g = wb_grad_begin(&slot->ctx, slot->out[k]);
        for (int64_t i = 0; i < slot->out[k]->numel; i++) g[i] = wb_rng_uniform(&rs) - 0.5f;
        wb_grad_end(&slot->ctx, slot->out[k], g);
    }
}

typedef struct slot_eval {
    wb_module_slot *slot;
    wb_tensor *const *x;
    int n_x, size;
    uint64_t r_seed;
} slot_eval;

static bool eval_slot(void *user, double *value, char *err, size_t n) {
    slot_eval *e = user;
    if (wb_slot_forward(e->slot, e->x, e->n_x, e->size, e->size, true, err, n) != WB_OK) return false;
    *value = objective(e->slot, e->r_seed);
    return true;
}

int wb_gc_check_slot(wb_module_slot *slot, wb_tensor *const *x, const char *const *x_names, int n_x, int size,
                     const wb_conformance_opts *o, FILE *out) {
    char err[2048];
    if (wb_slot_forward(slot, x, n_x, size, size, true, err, sizeof err) != WB_OK) {
        fprintf(out, "FAIL forward: %s\n", err);
        return 1;
    }
    char shape[96];
    fprintf(out, "PASS forward returns the %d declared output(s), the first %s\n", slot->n_out,
            wb_shape_str(slot->out[0], shape, sizeof shape));
    slot_eval e = {slot, x, n_x, size, o->seed + 1234};
    seed_output_grads(slot, e.r_seed);
    if (wb_slot_backward(slot, err, sizeof err) != WB_OK) {
        fprintf(out, "FAIL backward: %s\n", err);
        return 1;
    }
    wb_session *s = slot->ctx.s;
    wb_gc_probe *p = calloc((size_t)(s->n_params + n_x), sizeof *p);
    if (!p) {
        fprintf(out, "FAIL out of memory\n");
        return 1;
    }
    int n = 0;
    for (int i = 0; i < s->n_params; i++) {
        if (!s->params[i].tensor->trainable) continue;
        p[n].t = s->params[i].tensor;
        snprintf(p[n++].name, sizeof p[0].name, "d/d %s", s->params[i].name);
    }
    for (int i = 0; i < n_x; i++) {
        if (!x[i]->requires_grad) continue;
        p[n].t = x[i];
        snprintf(p[n++].name, sizeof p[0].name, "d/d input %s", x_names[i]);
    }
    uint64_t rng = o->seed * 31 + 11;
    int failures = wb_gc_compare(p, n, eval_slot, &e, o->points > 0 ? o->points : 8, &rng, out);
    free(p);
    return failures;
}

static int check_module(wb_registry *reg, const wb_module_desc *d, const wb_conformance_opts *o, FILE *out) {
    wb_config *cfg = wb_gc_config(reg, d, o, NULL, out);
    if (!cfg) return -1;
    const wb_params *params = wb_gc_params(cfg);
    wb_feature_spec in[WB_MAX_FEATURES];
    int n_in = d->kind != WB_KIND_BACKBONE && o->inputs ? parse_inputs(o->inputs, in, WB_MAX_FEATURES)
                                                        : default_inputs(d, params, o->quick, in);
    if (n_in <= 0) {
        fprintf(out, "error: --inputs wants name:channels:stride[,...] (at most %d), e.g. c3:64:8,c4:128:16\n",
                WB_MAX_FEATURES);
        wb_config_free(cfg);
        return -1;
    }
    fprintf(out, "inputs:");
    for (int i = 0; i < n_in; i++) fprintf(out, " %s:%d:%d", in[i].name, in[i].channels, in[i].stride);
    int size = o->size > 0 ? o->size : o->quick ? 32 : 64;
    fprintf(out, " (name:channels:stride), batch 2, %dx%d image\n", size, size);
    wb_session *s = wb_gc_session(reg, o->seed);
    wb_module_slot slot;
    char err[2048];
    int failures = 0;
    if (!s) {
        fprintf(out, "FAIL out of memory\n");
        failures = 1;
    } else if (wb_slot_create(&slot, s, d, wb_module_kind_name(d->kind), params, in, n_in, err, sizeof err) != WB_OK) {
        fprintf(out, "FAIL create: %s\n", err);
        failures = 1;
    } else {
        /* Inputs: N=2 maps at each input's stride, uniform in [-1, 1). */
        uint64_t rng = o->seed * 31 + 7;
        wb_tensor *x[WB_MAX_FEATURES];
        const char *names[WB_MAX_FEATURES];
        for (int i = 0; i < n_in && failures == 0; i++) {
            int64_t side = (size + in[i].stride - 1) / in[i].stride, shape[4] = {2, in[i].channels, side, side};
            x[i] = wb_ctx_tensor_uninit(&slot.ctx, 4, shape);
            if (!x[i]) {
                fprintf(out, "FAIL out of memory\n");
                failures = 1;
                break;
            }
            for (int64_t k = 0; k < x[i]->numel; k++) x[i]->data[k] = 2.0f * wb_rng_uniform(&rng) - 1.0f;
            x[i]->requires_grad = d->kind != WB_KIND_BACKBONE;
            names[i] = in[i].name;
        }
        if (failures == 0) {
            failures = wb_gc_check_slot(&slot, x, names, n_in, size, o, out);
            if (d->kind == WB_KIND_HEAD && d->module->loss)
                failures += wb_gc_check_head_loss(&slot, x, n_in, size, params, o, out);
        }
    }
    if (s) wb_slot_destroy(&slot);
    wb_session_destroy(s);
    wb_config_free(cfg);
    return failures;
}

int wb_conformance_run(wb_registry *reg, const wb_conformance_opts *o, FILE *out) {
    const wb_module_desc *d = find_module(reg, o->type, out);
    if (!d) return 2;
    const char *kind = wb_module_kind_name(d->kind), *origin = wb_module_origin(reg, d);
    fprintf(out, "gradcheck %s (%s from %s)%s\n", d->type_name, kind, origin, o->quick ? ", quick" : "");
    int failures = d->kind == WB_KIND_LOSS ? wb_gc_check_loss(reg, d, o, out) : check_module(reg, d, o, out);
    if (failures < 0) return 2;
    if (failures)
        fprintf(out, "gradcheck FAILED: %s (%s from %s): %d check(s) disagree\n", d->type_name, kind, origin,
                failures);
    else
        fprintf(out, "gradcheck passed: %s (%s from %s)\n", d->type_name, kind, origin);
    return failures ? 1 : 0;
}
