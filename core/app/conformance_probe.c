/* Backward against finite differences, one tensor at a time.
 *
 * Float32 finite differences through many ReLU kinks (and batch statistics)
 * are noisy element by element, while a wrong backward is wrong on most
 * elements. So each tensor is judged as a whole: over its probes, the vector
 * of backward values must match the vector of central differences D(h)
 * within 10% of its norm, plus 2e-3 per probe, plus twice the norm of
 * |D(h) - D(h/2)|: the differences' own uncertainty (float rounding of
 * outputs that sit far from zero, such as logits with a -4.6 prior bias),
 * which a wrong backward does not have.
 *
 * A step of 1e-3 can be far larger than the pre-activations it moves (the
 * last convs of a small-init tower): then both steps jump the same kinks and
 * agree on a wrong value. A tensor that fails is tried again with steps of
 * 1e-4 and 1e-5, where it passes only on differences that are well
 * determined (their uncertainty under 10% of their norm), so the tolerance
 * stays under 30%: a backward wrong by a factor 1.5 fails at every step.
 *
 * Half of the probes go where the backward is largest, so a gradient that is
 * zero almost everywhere (regression outputs away from positive anchors) is
 * still checked where it is not; the other half are random, so a backward
 * that is zero where it should not be is caught too. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "conformance_kit.h"

static const float g_steps[] = {1e-3f, 1e-4f, 1e-5f};

/* Up to `points` distinct element indices of t. */
static int pick(const float *analytic, int64_t numel, int points, uint64_t *rng, int64_t *idx) {
    if (numel <= points) {
        for (int64_t i = 0; i < numel; i++) idx[i] = i;
        return (int)numel;
    }
    int n = 0;
    for (int k = 0; k < points / 2; k++) {
        int64_t best = -1;
        for (int64_t i = 0; i < numel; i++) {
            bool taken = false;
            for (int j = 0; j < n && !taken; j++) taken = idx[j] == i;
            if (!taken && (best < 0 || fabsf(analytic[i]) > fabsf(analytic[best]))) best = i;
        }
        idx[n++] = best;
    }
    while (n < points) {
        int64_t i = (int64_t)(wb_rng_next(rng) % (uint64_t)numel);
        bool taken = false;
        for (int j = 0; j < n && !taken; j++) taken = idx[j] == i;
        if (!taken) idx[n++] = i;
    }
    return n;
}

/* Central differences at element i with steps h and h/2. */
static bool numeric_at(wb_tensor *t, int64_t i, float h, wb_gc_eval_fn eval, void *user, double d[2], char *err,
                       size_t n) {
    float keep = t->data[i];
    bool ok = true;
    for (int level = 0; level < 2 && ok; level++) {
        float step = level ? h / 2 : h;
        double l[2] = {0, 0};
        for (int side = 0; side < 2 && ok; side++) {
            t->data[i] = keep + (side ? -step : step);
            ok = eval(user, &l[side], err, n);
        }
        /* The step actually taken, after rounding keep +- step to float. */
        d[level] = (l[0] - l[1]) / ((double)(keep + step) - (double)(keep - step));
    }
    t->data[i] = keep;
    return ok;
}

typedef struct verdict {
    double diff2, norm2, noise2, floor, max_abs, worst_a, worst_n;
    int64_t worst_i;
    bool ok;
} verdict;

/* Judges a tensor at the m probes idx with step h; false when an evaluation failed. */
static bool judge(wb_tensor *t, const float *analytic, const int64_t *idx, int m, int step, wb_gc_eval_fn eval,
                  void *user, verdict *v, char *err, size_t n) {
    memset(v, 0, sizeof *v);
    v->worst_i = idx[0];
    for (int j = 0; j < m; j++) {
        double d[2], a = analytic[idx[j]];
        if (!numeric_at(t, idx[j], g_steps[step], eval, user, d, err, n)) return false;
        v->diff2 += (a - d[0]) * (a - d[0]);
        v->norm2 += d[0] * d[0];
        v->noise2 += (d[0] - d[1]) * (d[0] - d[1]);
        if (fabs(a - d[0]) >= v->max_abs)
            v->max_abs = fabs(a - d[0]), v->worst_i = idx[j], v->worst_a = a, v->worst_n = d[0];
    }
    v->floor = 2e-3 * sqrt((double)m) + 2.0 * sqrt(v->noise2);
    bool determined = step == 0 || sqrt(v->noise2) <= 0.1 * sqrt(v->norm2);
    v->ok = isfinite(v->diff2) && isfinite(v->noise2) && determined &&
            sqrt(v->diff2) <= 0.1 * sqrt(v->norm2) + v->floor;
    return true;
}

static void report(const wb_gc_probe *p, int m, const verdict *v, int step, FILE *out) {
    char shape[96];
    wb_shape_str(p->t, shape, sizeof shape);
    fprintf(out, "%s %-44s %-16s %2d of %-8lld max abs err %.2e  ", v->ok ? "PASS" : "FAIL", p->name, shape, m,
            (long long)p->t->numel, v->max_abs);
    /* A relative error means something only for a gradient above the absolute tolerance. */
    if (sqrt(v->norm2) > v->floor) fprintf(out, "rel err %.3f", sqrt(v->diff2) / sqrt(v->norm2));
    else fprintf(out, "rel err -    ");
    fprintf(out, "  fd noise %.1e", sqrt(v->noise2 / m));
    if (step > 0) fprintf(out, "  step %.0e", (double)g_steps[step]);
    if (!v->ok)
        fprintf(out, "  (worst: element %lld, backward %.6g, finite differences %.6g)", (long long)v->worst_i,
                v->worst_a, v->worst_n);
    fputc('\n', out);
}

int wb_gc_compare(const wb_gc_probe *p, int n, wb_gc_eval_fn eval, void *user, int points, uint64_t *rng,
                  FILE *out) {
    float **analytic = calloc((size_t)(n ? n : 1), sizeof *analytic);
    int64_t *idx = malloc((size_t)points * sizeof *idx);
    int failures = 0;
    if (!analytic || !idx) {
        fprintf(out, "FAIL out of memory\n");
        free(analytic);
        free(idx);
        return 1;
    }
    /* The evaluations below may run the backward's module again: copy first. */
    for (int k = 0; k < n; k++) {
        analytic[k] = malloc((size_t)p[k].t->numel * sizeof(float));
        if (!analytic[k]) continue;
        for (int64_t i = 0; i < p[k].t->numel; i++)
            analytic[k][i] = p[k].t->grad_valid ? p[k].t->grad[i] : 0.0f;
    }
    for (int k = 0; k < n; k++) {
        char err[2048] = "";
        if (!analytic[k]) {
            fprintf(out, "FAIL %s: out of memory\n", p[k].name);
            failures++;
            continue;
        }
        int m = pick(analytic[k], p[k].t->numel, points, rng, idx), step = 0;
        verdict first, v;
        bool evaluated = judge(p[k].t, analytic[k], idx, m, 0, eval, user, &first, err, sizeof err);
        v = first;
        while (evaluated && !v.ok && ++step < (int)(sizeof g_steps / sizeof g_steps[0]))
            evaluated = judge(p[k].t, analytic[k], idx, m, step, eval, user, &v, err, sizeof err);
        if (!evaluated) {
            fprintf(out, "FAIL %s: a forward for the finite differences failed: %s\n", p[k].name, err);
            failures++;
            continue;
        }
        /* A failure is reported at the first step: the others were not well determined or also disagree. */
        report(&p[k], m, v.ok ? &v : &first, v.ok ? step : 0, out);
        failures += !v.ok;
    }
    for (int k = 0; k < n; k++) free(analytic[k]);
    free(analytic);
    free(idx);
    return failures;
}
