#include "opcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IN 8

typedef struct run {
    wbt_env *env;
    opcheck_fn fn;
    void *user;
    const opcheck_input *inputs;
    float **values;  /* host copies of the inputs */
    int n_in;
} run;

/* Evaluates sum(out * R) with grad off; R is regenerated from its seed. */
static double loss_at(run *r, uint64_t r_seed, const char *op) {
    wbt_env *e = r->env;
    wbt_env_reset(e);
    e->c.grad_enabled = false;
    wb_tensor *in[MAX_IN];
    for (int i = 0; i < r->n_in; i++)
        in[i] = wbt_from(e, r->inputs[i].ndim, r->inputs[i].shape, r->values[i]);
    wb_tensor *out = r->fn(e->ctx, in, r->user);
    ck_assert_msg(out != NULL, "%s: forward failed: %s", op, e->c.msg);
    double sum = 0.0;
    uint64_t rs = r_seed;
    const float *y = wbt_plain(out);
    for (int64_t k = 0; k < out->numel; k++) sum += (double)y[k] * (wb_rng_uniform(&rs) - 0.5);
    e->c.grad_enabled = true;
    return sum;
}

void opcheck_gradients(const char *op, opcheck_fn fn, void *user, const opcheck_input *inputs,
                       int n_in, opcheck_opts o) {
    ck_assert_int_le(n_in, MAX_IN);
    if (o.eps == 0) o.eps = 1e-3;
    if (o.atol == 0) o.atol = 2e-3;
    if (o.rtol == 0) o.rtol = 2e-2;
    if (o.max_points == 0) o.max_points = 64;
    wbt_env env;
    wbt_env_init(&env, o.backend ? o.backend : wb_backend_ref(), o.seed);
    uint64_t rng = o.seed * 7919u + 17u;
    float *values[MAX_IN];
    for (int i = 0; i < n_in; i++) {
        int64_t n = wb_shape_numel(inputs[i].ndim, inputs[i].shape);
        values[i] = malloc((size_t)(n ? n : 1) * sizeof(float));
        for (int64_t k = 0; k < n; k++)
            values[i][k] = inputs[i].values ? inputs[i].values[k]
                                            : inputs[i].lo + (inputs[i].hi - inputs[i].lo) * wb_rng_uniform(&rng);
    }
    run r = {&env, fn, user, inputs, values, n_in};
    const uint64_t r_seed = o.seed + 99;

    /* Analytic gradients through the tape. */
    wbt_env_reset(&env);
    wb_tensor *in[MAX_IN];
    for (int i = 0; i < n_in; i++) {
        in[i] = wbt_from(&env, inputs[i].ndim, inputs[i].shape, values[i]);
        in[i]->requires_grad = inputs[i].grad;
    }
    wb_tensor *out = fn(env.ctx, in, user);
    ck_assert_msg(out != NULL, "%s: forward failed: %s", op, env.c.msg);
    float *seedgrad = wb_grad_begin(&env.c, out);
    uint64_t rs = r_seed;
    for (int64_t k = 0; k < out->numel; k++) seedgrad[k] = wb_rng_uniform(&rs) - 0.5f;
    wb_grad_end(&env.c, out, seedgrad);
    ck_assert_msg(wb_tape_backward(&env.c) == WB_OK, "%s: backward failed: %s", op, env.c.msg);
    float *analytic[MAX_IN] = {0};
    for (int i = 0; i < n_in; i++) {
        if (!inputs[i].grad) continue;
        ck_assert_msg(in[i]->grad_valid, "%s: no gradient reached input %d", op, i);
        analytic[i] = malloc((size_t)in[i]->numel * sizeof(float));
        memcpy(analytic[i], in[i]->grad, (size_t)in[i]->numel * sizeof(float));
    }

    /* Central differences at up to max_points elements of each input. */
    for (int i = 0; i < n_in; i++) {
        if (!inputs[i].grad) continue;
        int64_t n = wb_shape_numel(inputs[i].ndim, inputs[i].shape);
        int points = n < o.max_points ? (int)n : o.max_points;
        for (int p = 0; p < points; p++) {
            int64_t k = n <= o.max_points ? p : (int64_t)(wb_rng_next(&rng) % (uint64_t)n);
            float keep = values[i][k];
            values[i][k] = keep + (float)o.eps;
            double up = loss_at(&r, r_seed, op);
            values[i][k] = keep - (float)o.eps;
            double down = loss_at(&r, r_seed, op);
            values[i][k] = keep;
            double numeric = (up - down) / (2.0 * o.eps);
            double a = analytic[i][k];
            ck_assert_msg(fabs(a - numeric) <= o.atol + o.rtol * fabs(numeric),
                          "%s: d/d input %d [element %lld] analytic %.6g vs finite difference %.6g",
                          op, i, (long long)k, a, numeric);
        }
    }
    for (int i = 0; i < n_in; i++) {
        free(values[i]);
        free(analytic[i]);
    }
    wbt_env_free(&env);
}
