/* Backward against finite differences, one tensor at a time.
 *
 * Float32 finite differences through many ReLU kinks (and batch statistics)
 * are noisy element by element, while a wrong backward is wrong on most
 * elements. So each tensor is judged as a whole: over its probes, the vector
 * of backward values must match the vector of central differences D(h)
 * within 10% of its norm, plus 2e-3 per probe, plus twice the norm of
 * |D(h) - D(h/2)|: the differences' own uncertainty (float rounding of
 * outputs that sit far from zero, such as logits with a -4.6 prior bias, and
 * kinks crossed by the step), which a wrong backward does not have. Half of
 * the probes go where the backward is largest, so a gradient that is zero
 * almost everywhere (regression outputs away from positive anchors) is still
 * checked where it is not; the other half are random, so a backward that is
 * zero where it should not be is caught too. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "conformance_kit.h"

#define STEP 1e-3f

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
static bool numeric_at(wb_tensor *t, int64_t i, wb_gc_eval_fn eval, void *user, double d[2], char *err, size_t n) {
    float keep = t->data[i];
    bool ok = true;
    for (int level = 0; level < 2 && ok; level++) {
        float step = level ? STEP / 2 : STEP;
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
        char shape[96], err[2048] = "";
        wb_shape_str(p[k].t, shape, sizeof shape);
        if (!analytic[k]) {
            fprintf(out, "FAIL %s: out of memory\n", p[k].name);
            failures++;
            continue;
        }
        int m = pick(analytic[k], p[k].t->numel, points, rng, idx);
        double diff2 = 0.0, norm2 = 0.0, noise2 = 0.0, max_abs = 0.0, worst_a = 0.0, worst_n = 0.0;
        int64_t worst_i = idx[0];
        bool evaluated = true;
        for (int j = 0; j < m && evaluated; j++) {
            double d[2], a = analytic[k][idx[j]];
            evaluated = numeric_at(p[k].t, idx[j], eval, user, d, err, sizeof err);
            diff2 += (a - d[0]) * (a - d[0]);
            norm2 += d[0] * d[0];
            noise2 += (d[0] - d[1]) * (d[0] - d[1]);
            if (fabs(a - d[0]) >= max_abs) max_abs = fabs(a - d[0]), worst_i = idx[j], worst_a = a, worst_n = d[0];
        }
        if (!evaluated) {
            fprintf(out, "FAIL %s: a forward for the finite differences failed: %s\n", p[k].name, err);
            failures++;
            continue;
        }
        double floor = 2e-3 * sqrt((double)m) + 2.0 * sqrt(noise2);
        bool ok = isfinite(diff2) && isfinite(noise2) && sqrt(diff2) <= 0.1 * sqrt(norm2) + floor;
        fprintf(out, "%s %-44s %-16s %2d of %-8lld max abs err %.2e  ", ok ? "PASS" : "FAIL", p[k].name, shape, m,
                (long long)p[k].t->numel, max_abs);
        /* A relative error means something only for a gradient above the absolute tolerance. */
        if (sqrt(norm2) > floor) fprintf(out, "rel err %.3f", sqrt(diff2) / sqrt(norm2));
        else fprintf(out, "rel err -    ");
        fprintf(out, "  fd noise %.1e", sqrt(noise2 / m));
        if (!ok)
            fprintf(out, "  (worst: element %lld, backward %.6g, finite differences %.6g)", (long long)worst_i,
                    worst_a, worst_n);
        fputc('\n', out);
        failures += !ok;
    }
    for (int k = 0; k < n; k++) free(analytic[k]);
    free(analytic);
    free(idx);
    return failures;
}
