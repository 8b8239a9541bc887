#include "conformance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../model/model.h"

#define MAX_TENSORS 12

static const wb_module_desc *find_any(wb_registry *reg, const char *type) {
    static const wb_module_kind kinds[] = {WB_KIND_BACKBONE, WB_KIND_NECK, WB_KIND_HEAD};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const wb_module_desc *d = wb_registry_find(reg, kinds[i], type);
        if (d) return d;
    }
    return NULL;
}

static int parse_inputs(const char *text, wb_feature_spec *specs, int max) {
    int n = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) {
        char name[WB_NAME_MAX];
        int ch, st;
        if (sscanf(tok, "%63[^:]:%d:%d", name, &ch, &st) != 3 || ch <= 0 || st <= 0) return -1;
        snprintf(specs[n].name, sizeof specs[n].name, "%s", name);
        specs[n].channels = ch;
        specs[n].stride = st;
        n++;
    }
    return n;
}

/* The module's section, validated and defaulted, from a small temporary file. */
static wb_config *module_config(wb_registry *reg, const wb_module_desc *d, const wb_conformance_opts *o, FILE *out) {
    char path[] = "/tmp/wb-gradcheck-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(out, "error: cannot write a temporary config\n");
        return NULL;
    }
    fprintf(f, "module = {\n  type = \"%s\";\n", d->type_name);
    for (int i = 0; i < o->n_params; i++) {
        const char *eq = strchr(o->params[i], '=');
        fprintf(f, "  %.*s = %s;\n", (int)(eq - o->params[i]), o->params[i], eq + 1);
    }
    fprintf(f, "};\n");
    fclose(f);
    wb_config *cfg = wb_config_new();
    wb_module_lookup lk = wb_registry_module_lookup(reg);
    if (cfg && wb_config_load(cfg, path) == 0) wb_config_validate_module(cfg, "module", d->kind, &lk);
    unlink(path);
    if (!cfg || wb_config_error_count(cfg) > 0) {
        if (cfg) wb_config_print_errors(cfg, out);
        wb_config_free(cfg);
        return NULL;
    }
    return cfg;
}

typedef struct probe_set {
    wb_tensor *t[MAX_TENSORS];
    const char *name[MAX_TENSORS];
    int n;
} probe_set;

/* L = sum_k sum(out_k * R_k) with R from a fixed stream. */
static double objective(wb_module_slot *slot, uint64_t seed) {
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

int wb_conformance_run(wb_registry *reg, const wb_conformance_opts *o, FILE *out) {
    const wb_module_desc *d = find_any(reg, o->type);
    if (!d) {
        fprintf(out, "error: no backbone, neck or head of type '%s' is loaded (see `workbench plugins`)\n", o->type);
        return 2;
    }
    wb_feature_spec in[WB_MAX_FEATURES];
    int n_in = 1;
    in[0] = (wb_feature_spec){"image", 3, 1};
    if (d->kind != WB_KIND_BACKBONE) {
        const char *def = d->kind == WB_KIND_NECK ? "c3:16:8,c4:24:16,c5:32:32" : "p3:16:8";
        n_in = parse_inputs(o->inputs ? o->inputs : def, in, WB_MAX_FEATURES);
        if (n_in <= 0) {
            fprintf(out, "error: --inputs wants name:channels:stride[,...], e.g. c3:64:8,c4:128:16\n");
            return 2;
        }
    }
    wb_config *cfg = module_config(reg, d, o, out);
    if (!cfg) return 2;
    int size = o->size > 0 ? o->size : 64, points = o->points > 0 ? o->points : 8;
    /* The reference kernels: deterministic, and the ground truth the
     * optimized kernels are tested against. */
    wb_session *s = wb_session_create(wb_backend_ref(), o->seed);
    wb_module_slot slot;
    char err[2048];
    int failures = 0;
    if (wb_slot_create(&slot, s, d, d->type_name, wb_config_params(cfg, "module"), in, n_in, err, sizeof err) != WB_OK) {
        fprintf(out, "FAIL create: %s\n", err);
        failures++;
        goto done;
    }
    /* Inputs: N=2 maps at each input's stride, uniform in [-1, 1). */
    uint64_t rng = o->seed * 31 + 7;
    wb_context *c = &slot.ctx;
    wb_tensor *x[WB_MAX_FEATURES];
    for (int i = 0; i < n_in; i++) {
        int64_t shape[4] = {2, in[i].channels, (size + in[i].stride - 1) / in[i].stride,
                            (size + in[i].stride - 1) / in[i].stride};
        x[i] = wb_ctx_tensor_uninit(c, 4, shape);
        for (int64_t k = 0; k < x[i]->numel; k++) x[i]->data[k] = 2.0f * wb_rng_uniform(&rng) - 1.0f;
        x[i]->requires_grad = d->kind != WB_KIND_BACKBONE;
    }
    if (wb_slot_forward(&slot, x, n_in, size, size, true, err, sizeof err) != WB_OK) {
        fprintf(out, "FAIL forward: %s\n", err);
        failures++;
        goto done;
    }
    fprintf(out, "ok   forward returns the %d declared output(s) for a 2x3x%dx%d input\n", slot.n_out, size, size);
    const uint64_t r_seed = o->seed + 1234;
    seed_output_grads(&slot, r_seed);
    if (wb_slot_backward(&slot, err, sizeof err) != WB_OK) {
        fprintf(out, "FAIL backward: %s\n", err);
        failures++;
        goto done;
    }
    /* What to probe: the trainable parameters (up to a dozen) and the inputs. */
    probe_set ps = {.n = 0};
    for (int i = 0; i < s->n_params && ps.n < MAX_TENSORS - n_in; i++)
        if (s->params[i].tensor->trainable) ps.t[ps.n] = s->params[i].tensor, ps.name[ps.n++] = s->params[i].name;
    for (int i = 0; i < n_in && d->kind != WB_KIND_BACKBONE; i++) ps.t[ps.n] = x[i], ps.name[ps.n++] = in[i].name;
    float *analytic[MAX_TENSORS];
    for (int k = 0; k < ps.n; k++) {
        analytic[k] = malloc((size_t)ps.t[k]->numel * sizeof(float));
        for (int64_t i = 0; i < ps.t[k]->numel; i++) analytic[k][i] = ps.t[k]->grad_valid ? ps.t[k]->grad[i] : 0.0f;
    }
    /* Float32 finite differences through many ReLU kinks (and batch
     * statistics) are noisy element by element, while a wrong backward is
     * wrong on most elements. So each tensor is judged as a whole: over its
     * probes, the vector of backward values must match the vector of
     * Richardson estimates 2 D(h/2) - D(h) within 10% of its norm (plus
     * 2e-3 per probe), on the deterministic reference kernels. */
    const float h = 1e-3f;
    for (int k = 0; k < ps.n; k++) {
        double diff2 = 0.0, norm2 = 0.0;
        int64_t worst_i = 0;
        double worst_a = 0, worst_n = 0, worst_d = -1;
        for (int p = 0; p < points; p++) {
            int64_t i = (int64_t)(wb_rng_next(&rng) % (uint64_t)ps.t[k]->numel);
            float keep = ps.t[k]->data[i];
            double d[2] = {0, 0};
            for (int level = 0; level < 2; level++) {
                float step = level ? h / 2 : h;
                double l[2] = {0, 0};
                for (int side = 0; side < 2; side++) {
                    ps.t[k]->data[i] = keep + (side ? -step : step);
                    if (wb_slot_forward(&slot, x, n_in, size, size, true, err, sizeof err) != WB_OK) break;
                    l[side] = objective(&slot, r_seed);
                }
                d[level] = (l[0] - l[1]) / (2.0 * step);
            }
            ps.t[k]->data[i] = keep;
            double numeric = 2.0 * d[1] - d[0], a = analytic[k][i];
            diff2 += (a - numeric) * (a - numeric);
            norm2 += numeric * numeric;
            if (fabs(a - numeric) > worst_d) worst_d = fabs(a - numeric), worst_i = i, worst_a = a, worst_n = numeric;
        }
        double rel = sqrt(diff2) / (sqrt(norm2) + 1e-12);
        bool ok = sqrt(diff2) <= 0.1 * sqrt(norm2) + 2e-3 * sqrt((double)points);
        fprintf(out, "%s d/d %-40s %d probes, relative error %.3f (worst: [%lld] backward %.5g, numeric %.5g)\n",
                ok ? "ok  " : "FAIL", ps.name[k], points, rel, (long long)worst_i, worst_a, worst_n);
        failures += !ok;
        free(analytic[k]);
    }
done:
    wb_slot_destroy(&slot);
    wb_session_destroy(s);
    wb_config_free(cfg);
    fprintf(out, "%s\n", failures ? "gradcheck FAILED" : "gradcheck passed");
    return failures ? 1 : 0;
}
