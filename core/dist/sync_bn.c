#include "sync_bn.h"

#include <math.h>
#include <stdlib.h>
#include "../autograd/tape.h"
#include "dist.h"

static bool g_on;

void wb_sync_bn_enable(bool on) { g_on = on; }
bool wb_sync_bn_enabled(void) { return g_on && wb_dist_world() > 1; }

typedef struct sync_saved {
    wb_bn_args args;
    wb_tensor *x, *gamma, *beta;
    float *mean, *invstd;  /* [C] the global statistics */
    double count;          /* values per channel over every rank */
} sync_saved;

/* Sums buf[0..n) over the ranks; false with the context failed. */
static bool sum_over_ranks(wb_context *c, double *buf, int64_t n) {
    char err[256];
    if (wb_dist_sum_f64(buf, n, err, sizeof err) == WB_OK) return true;
    wb_ctx_fail(c, WB_ERR_IO, "sync_bn: %s", err);
    return false;
}

/* Per channel: sum over this rank's values of f(value, channel). */
#define CHANNEL_SUMS(out, x, a, expr)                                                   \
    for (int64_t ch = 0; ch < (a)->c; ch++) {                                           \
        double s_ = 0.0;                                                                \
        for (int64_t i = 0; i < (a)->n; i++) {                                          \
            const float *row_ = (x) + (i * (a)->c + ch) * (a)->hw;                      \
            for (int64_t p = 0; p < (a)->hw; p++) {                                     \
                double v = row_[p];                                                     \
                s_ += (expr);                                                           \
            }                                                                           \
        }                                                                               \
        (out)[ch] = s_;                                                                 \
    }

/* The global mean and biased variance, and the number of values behind them. */
static bool global_stats(wb_context *c, const float *x, const wb_bn_args *a, double *mean, double *var, double *count) {
    int64_t C = a->c;
    double *buf = malloc((size_t)(C + 1) * sizeof *buf);
    if (!buf) {
        wb_ctx_fail(c, WB_ERR_NOMEM, "sync_bn: out of memory");
        return false;
    }
    CHANNEL_SUMS(buf, x, a, v);
    buf[C] = (double)(a->n * a->hw);
    bool ok = sum_over_ranks(c, buf, C + 1);
    *count = buf[C];
    for (int64_t ch = 0; ok && ch < C; ch++) mean[ch] = buf[ch] / *count;
    if (ok) CHANNEL_SUMS(buf, x, a, (v - mean[ch]) * (v - mean[ch]));
    ok = ok && sum_over_ranks(c, buf, C);
    for (int64_t ch = 0; ok && ch < C; ch++) var[ch] = buf[ch] / *count;
    free(buf);
    return ok;
}

static wb_status sync_backward(wb_context *c, wb_tape_node *node) {
    sync_saved *s = node->saved;
    const wb_bn_args *a = &s->args;
    const float *dy = wb_grad_of(c, node->out[0]);
    if (!dy) return c->err;
    bool want_x = s->x->requires_grad, want_g = s->gamma && s->gamma->requires_grad;
    bool want_b = s->beta && s->beta->requires_grad;
    size_t cbytes = (size_t)a->c * sizeof(float);
    float *dx = want_x ? wb_grad_begin(c, s->x) : NULL;
    float *dg = want_g ? wb_grad_begin(c, s->gamma) : wb_ctx_scratch(c, cbytes);
    float *db = want_b ? wb_grad_begin(c, s->beta) : wb_ctx_scratch(c, cbytes);
    double *sums = malloc((size_t)(2 * a->c) * sizeof *sums);
    if ((want_x && !dx) || !dg || !db || !sums) {
        free(sums);
        return c->err != WB_OK ? c->err : WB_ERR_NOMEM;
    }
    const float *g = s->gamma ? s->gamma->data : NULL;
    /* The affine part (dx = gamma * invstd * dy) and this rank's sums of dy and dy * xhat ... */
    c->s->backend->dense->bn_backward(dy, s->x->data, g, s->mean, s->invstd, a, 0, dx, dg, db);
    for (int64_t ch = 0; ch < a->c; ch++) sums[ch] = db[ch], sums[a->c + ch] = dg[ch];
    /* ... then what the batch statistics add, with the sums over every rank. */
    bool ok = sum_over_ranks(c, sums, 2 * a->c);
    for (int64_t ch = 0; ok && dx && ch < a->c; ch++) {
        double k = (g ? g[ch] : 1.0) * s->invstd[ch] / s->count, sdy = sums[ch], sdy_xhat = sums[a->c + ch];
        for (int64_t i = 0; i < a->n; i++) {
            const float *xr = s->x->data + (i * a->c + ch) * a->hw;
            float *dxr = dx + (i * a->c + ch) * a->hw;
            for (int64_t p = 0; p < a->hw; p++) {
                double xhat = ((double)xr[p] - s->mean[ch]) * s->invstd[ch];
                dxr[p] = (float)((double)dxr[p] - k * (sdy + xhat * sdy_xhat));
            }
        }
    }
    free(sums);
    if (want_x) wb_grad_end(c, s->x, dx);
    if (want_g) wb_grad_end(c, s->gamma, dg);
    if (want_b) wb_grad_end(c, s->beta, db);
    return ok ? WB_OK : c->err;
}

wb_tensor *wb_sync_batch_norm(wb_context *c, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta,
                              wb_tensor *running_mean, wb_tensor *running_var, const wb_bn_args *a) {
    int64_t C = a->c;
    wb_tensor *y = wb_ctx_tensor_uninit(c, x->ndim, x->shape);
    float *mean = wb_ctx_scratch(c, (size_t)C * sizeof(float)), *invstd = wb_ctx_scratch(c, (size_t)C * sizeof(float));
    float *fvar = wb_ctx_scratch(c, (size_t)C * sizeof(float));
    double *m = malloc((size_t)(2 * C) * sizeof *m), count = 0;
    if (!y || !mean || !invstd || !fvar || !m) {
        free(m);
        if (c->err == WB_OK) wb_ctx_fail(c, WB_ERR_NOMEM, "sync_bn: out of memory");
        return NULL;
    }
    double *var = m + C;
    if (!global_stats(c, x->data, a, m, var, &count)) {
        free(m);
        return NULL;
    }
    for (int64_t ch = 0; ch < C; ch++) mean[ch] = (float)m[ch], fvar[ch] = (float)var[ch];
    /* Normalising with given statistics is the eval kernel's job; it also fills mean and invstd. */
    c->s->backend->dense->bn_eval_forward(x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL, mean, fvar,
                                          a, y->data, mean, invstd);
    for (int64_t ch = 0; running_mean && ch < C; ch++) { /* torch: the unbiased variance of the whole batch */
        running_mean->data[ch] = (1.0f - a->momentum) * running_mean->data[ch] + a->momentum * (float)m[ch];
        running_var->data[ch] = (1.0f - a->momentum) * running_var->data[ch] +
                                a->momentum * (float)(var[ch] * count / (count - 1.0));
    }
    free(m);
    wb_tensor *in[3];
    int n_in = 0;
    in[n_in++] = x;
    if (gamma) in[n_in++] = gamma;
    if (beta) in[n_in++] = beta;
    if (wb_tape_needed(c, in, n_in)) {
        wb_tape_node *node = wb_tape_record(c, "sync_batch_norm", sync_backward, in, n_in, &y, 1, sizeof(sync_saved),
                                            WB_KEEP_IN(0) | WB_KEEP_IN(1) | WB_KEEP_IN(2));
        if (!node) return NULL;
        *(sync_saved *)node->saved = (sync_saved){*a, x, gamma, beta, mean, invstd, count};
    }
    return y;
}
