/* gradcheck of a loss module: forward(pred, target, weight) for every
 * reduction it offers, its gradient with respect to pred (and any parameter
 * of its own) against finite differences. The SDK's loss contract says
 * nothing of what targets a loss takes, so they come from --target or, for
 * the in-tree types, from a table. */
#include <string.h>
#include "../config/params.h"
#include "../config/schema_table.h"
#include "conformance_kit.h"

#define ROWS 6
#define CLASSES 5

typedef enum target_kind { T_BINARY, T_SOFT, T_CLASS, T_REAL, T_BOX, T_COUNT } target_kind;

static const char *const g_target_names[T_COUNT] = {"binary", "soft", "class", "real", "box"};
static const char *const g_target_docs[T_COUNT] = {
    "pred [6, 5] logits, target 0/1 per class, weight [6, 5]",
    "pred [6, 5] logits, target in [0, 1] per class (quality scores), weight [6, 5]",
    "pred [6, 5] logits, target [6] class indices (one row -1: ignored), weight [6]",
    "pred [6, 4], target [6, 4] real values, weight [6, 4]",
    "pred [6, 4] and target [6, 4] valid x1,y1,x2,y2 boxes, weight [6]",
};

static const struct {
    const char *type;
    target_kind kind;
} g_known[] = {
    {"focal_loss", T_BINARY}, {"cross_entropy", T_CLASS}, {"l1", T_REAL},  {"smooth_l1", T_REAL},
    {"iou", T_BOX},           {"giou", T_BOX},            {"diou", T_BOX}, {"ciou", T_BOX},
};

static int target_of(const wb_module_desc *d, const wb_conformance_opts *o, const wb_params *p, FILE *out) {
    if (o->target) {
        for (int k = 0; k < T_COUNT; k++)
            if (strcmp(o->target, g_target_names[k]) == 0) return k;
        fprintf(out, "error: --target %s: expected binary, soft, class, real or box\n", o->target);
        return -1;
    }
    const wb_param_schema *sig = wb_schema_find(d->params, "use_sigmoid");
    if (sig && sig->type == WB_PARAM_BOOL && wb_params_bool(p, "use_sigmoid")) return T_BINARY;
    for (size_t i = 0; i < sizeof g_known / sizeof g_known[0]; i++)
        if (strcmp(d->type_name, g_known[i].type) == 0) return g_known[i].kind;
    fprintf(out, "note: the targets of a %s are not known here: soft targets in [0, 1]; choose others with "
                 "--target binary|soft|class|real|box\n", d->type_name);
    return T_SOFT;
}

static float uniform(uint64_t *rng, float lo, float hi) { return lo + (hi - lo) * wb_rng_uniform(rng); }

/* pred requires a gradient; target and weight are data. */
static bool make_inputs(wb_context *c, target_kind k, uint64_t seed, wb_tensor **x) {
    uint64_t rng = seed * 131 + 5;
    int64_t cols = k == T_REAL || k == T_BOX ? 4 : CLASSES;
    int64_t full[2] = {ROWS, cols}, rows[1] = {ROWS};
    bool per_row = k == T_CLASS || k == T_BOX;
    x[0] = wb_ctx_tensor_uninit(c, 2, full);
    x[1] = k == T_CLASS ? wb_ctx_tensor_uninit(c, 1, rows) : wb_ctx_tensor_uninit(c, 2, full);
    x[2] = per_row ? wb_ctx_tensor_uninit(c, 1, rows) : wb_ctx_tensor_uninit(c, 2, full);
    if (!x[0] || !x[1] || !x[2]) return false;
    float *pred = x[0]->data, *target = x[1]->data, *weight = x[2]->data;
    for (int64_t i = 0; i < x[2]->numel; i++) weight[i] = uniform(&rng, 0.5f, 1.5f);
    for (int r = 0; r < ROWS; r++) {
        float *p = pred + r * cols, *t = target + r * cols;
        if (k == T_BOX) {
            /* Overlapping boxes a few pixels wide; the target moved by up to 1 px per side. */
            p[0] = uniform(&rng, 0, 4), p[1] = uniform(&rng, 0, 4);
            p[2] = p[0] + uniform(&rng, 2, 6), p[3] = p[1] + uniform(&rng, 2, 6);
            for (int j = 0; j < 4; j++) t[j] = p[j] + uniform(&rng, -1, 1);
            continue;
        }
        for (int j = 0; j < cols; j++) p[j] = k == T_REAL ? uniform(&rng, -1, 1) : uniform(&rng, -2, 2);
        if (k == T_CLASS) {
            target[r] = r == 0 ? -1.0f : (float)(wb_rng_next(&rng) % CLASSES);
            continue;
        }
        for (int j = 0; j < cols; j++)
            t[j] = k == T_BINARY ? (float)(wb_rng_next(&rng) % 2)
                 : k == T_SOFT   ? wb_rng_uniform(&rng)
                                 : uniform(&rng, -1, 1);
    }
    x[0]->requires_grad = true;
    return true;
}

/* A reduced loss is one value; "none" keeps one per row or per element. */
static int check_reduction(const wb_module_slot *slot, const char *reduction, const wb_tensor *pred, FILE *out) {
    int64_t n = slot->out[0]->numel;
    bool ok = strcmp(reduction, "none") == 0 ? n == ROWS || n == pred->numel : n == 1;
    if (!ok)
        fprintf(out, "FAIL reduction=%s returned %lld values; expected %s\n", reduction, (long long)n,
                strcmp(reduction, "none") == 0 ? "one per row or one per element of pred" : "one value");
    return !ok;
}

/* One run; `choice` (a reduction) is set unless NULL. *kind: the targets,
 * found on the first run (-1 until then). */
static int check_one(wb_registry *reg, const wb_module_desc *d, const wb_conformance_opts *o, const char *choice,
                     int *kind, FILE *out) {
    char extra[96];
    snprintf(extra, sizeof extra, "reduction=\"%s\"", choice ? choice : "");
    wb_config *cfg = wb_gc_config(reg, d, o, choice ? extra : NULL, out);
    if (!cfg) return -1;
    const wb_params *params = wb_gc_params(cfg);
    const wb_param_schema *r = wb_schema_find(d->params, "reduction");
    const char *reduction = r && r->type == WB_PARAM_CHOICE ? wb_params_string(params, "reduction") : NULL;
    if (*kind < 0 && (*kind = target_of(d, o, params, out)) < 0) {
        wb_config_free(cfg);
        return -1;
    }
    if (reduction) fprintf(out, "-- reduction=%s, ", reduction);
    else fprintf(out, "-- ");
    fprintf(out, "targets %s: %s\n", g_target_names[*kind], g_target_docs[*kind]);
    wb_session *s = wb_gc_session(reg, o->seed);
    wb_module_slot slot;
    wb_feature_spec none[1];
    char err[2048];
    int failures = 1;
    wb_tensor *x[3];
    static const char *const names[3] = {"pred", "target", "weight"};
    /* A head creates its losses with no input specs (the contract: tensors
     * come at forward); so does this. */
    if (!s) {
        fprintf(out, "FAIL out of memory\n");
    } else if (wb_slot_create(&slot, s, d, wb_module_kind_name(d->kind), params, none, 0, err, sizeof err) != WB_OK) {
        fprintf(out, "FAIL create: %s\n", err);
    } else if (!make_inputs(&slot.ctx, (target_kind)*kind, o->seed, x)) {
        fprintf(out, "FAIL out of memory\n");
    } else {
        failures = wb_gc_check_slot(&slot, x, names, 3, 1, o, out);
        if (reduction && slot.out[0]) failures += check_reduction(&slot, reduction, x[0], out);
    }
    if (s) wb_slot_destroy(&slot);
    wb_session_destroy(s);
    wb_config_free(cfg);
    return failures;
}

int wb_gc_check_loss(wb_registry *reg, const wb_module_desc *d, const wb_conformance_opts *o, FILE *out) {
    const wb_param_schema *r = wb_schema_find(d->params, "reduction");
    int kind = -1;
    if (!r || r->type != WB_PARAM_CHOICE || !r->choices || wb_gc_user_sets(o, "reduction"))
        return check_one(reg, d, o, NULL, &kind, out);
    int failures = 0;
    for (int i = 0; r->choices[i]; i++) {
        int f = check_one(reg, d, o, r->choices[i], &kind, out);
        if (f < 0) return -1;
        failures += f;
    }
    return failures;
}
