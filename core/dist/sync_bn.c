#include "sync_bn.h"

#include <math.h>
#include <stdlib.h>
#include "../autograd/tape.h"
#include "dist.h"

static bool g_on;

void wb_sync_bn_enable(bool on) { g_on = on; }
bool wb_sync_bn_enabled(void) { return g_on && wb_dist_world() > 1; }

/* Tensor data is backend memory: the per-channel sums over a rank's values
 * and the batch-statistics term of dx are computed on host copies (download
 * / upload), the normalisation and the affine part of the backward by the
 * backend's kernels. A device backend would sum on the device and reduce
 * with NCCL instead. */
typedef struct sync_saved {
    wb_bn_args args;
    wb_tensor *x, *gamma, *beta;
    wb_tensor *stats;      /* [3C] backend memory: mean, variance, invstd (the kernels') */
    double *mean, *invstd; /* [C] host copies of the kernel's statistics */
    double count;          /* values per channel over every rank */
} sync_saved;

/* Sums buf[0..n) over the ranks; false with the context failed. */
static bool sum_over_ranks(wb_context *c, double *buf, int64_t n) {
    char err[256];
    if (wb_dist_sum_f64(buf, n, err, sizeof err) == WB_OK) return true;
    wb_ctx_fail(c, WB_ERR_IO, "sync_bn: %s", err);
    return false;
}

/* A host copy of n floats of backend memory (malloc'd), or NULL with the context failed. */
static float *host_copy(wb_context *c, const float *data, int64_t n) {
    float *h = malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    if (h) c->s->backend->download(h, data, (size_t)n * sizeof *h);
    else wb_ctx_fail(c, WB_ERR_NOMEM, "sync_bn: out of memory for a host copy of %lld floats", (long long)n);
    return h;
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

/* The global mean and biased variance of host values x, and the number of values behind them. */
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

/* dx -= gamma * invstd / count * (sum dy + xhat * sum dy xhat), on host copies of x and dx. */
static bool batch_statistics_term(wb_context *c, const sync_saved *s, const double *sums, float *dx) {
    const wb_bn_args *a = &s->args;
    int64_t n = s->x->numel;
    float *xh = host_copy(c, s->x->data, n), *dxh = xh ? host_copy(c, dx, n) : NULL;
    float *gh = dxh && s->gamma ? host_copy(c, s->gamma->data, a->c) : NULL;
    bool ok = dxh && (!s->gamma || gh);
    for (int64_t ch = 0; ok && ch < a->c; ch++) {
        double k = (gh ? gh[ch] : 1.0) * s->invstd[ch] / s->count, sdy = sums[ch], sdy_xhat = sums[a->c + ch];
        for (int64_t i = 0; i < a->n; i++) {
            const float *xr = xh + (i * a->c + ch) * a->hw;
            float *dxr = dxh + (i * a->c + ch) * a->hw;
            for (int64_t p = 0; p < a->hw; p++) {
                double xhat = ((double)xr[p] - s->mean[ch]) * s->invstd[ch];
                dxr[p] = (float)((double)dxr[p] - k * (sdy + xhat * sdy_xhat));
            }
        }
    }
    if (ok) c->s->backend->upload(dx, dxh, (size_t)n * sizeof *dxh);
    free(xh), free(dxh), free(gh);
    return ok;
}

static wb_status sync_backward(wb_context *c, wb_tape_node *node) {
    sync_saved *s = node->saved;
    const wb_bn_args *a = &s->args;
    const float *dy = wb_grad_of(c, node->out[0]);
    if (!dy) return c->err;
    bool want_x = s->x->requires_grad, want_g = s->gamma && s->gamma->requires_grad;
    bool want_b = s->beta && s->beta->requires_grad;
    wb_tensor *unwanted = want_g && want_b ? NULL : wb_ctx_tensor_uninit(c, 1, (int64_t[]){2 * a->c});
    float *dx = want_x ? wb_grad_begin(c, s->x) : NULL;
    float *dg = want_g ? wb_grad_begin(c, s->gamma) : unwanted ? unwanted->data : NULL;
    float *db = want_b ? wb_grad_begin(c, s->beta) : unwanted ? unwanted->data + a->c : NULL;
    double *sums = malloc((size_t)(2 * a->c) * sizeof *sums);
    float *local = malloc((size_t)(2 * a->c) * sizeof *local);
    if ((want_x && !dx) || !dg || !db || !sums || !local) {
        free(sums), free(local);
        return c->err != WB_OK ? c->err : wb_ctx_fail(c, WB_ERR_NOMEM, "sync_bn: out of memory");
    }
    const float *stats = s->stats->data;
    /* The affine part (dx = gamma * invstd * dy) and this rank's sums of dy and dy * xhat ... */
    c->s->backend->dense->bn_backward(dy, s->x->data, s->gamma ? s->gamma->data : NULL, stats, stats + 2 * a->c, a,
                                      0, dx, dg, db);
    c->s->backend->download(local, db, (size_t)a->c * sizeof *local);
    c->s->backend->download(local + a->c, dg, (size_t)a->c * sizeof *local);
    for (int64_t k = 0; k < 2 * a->c; k++) sums[k] = local[k];
    free(local);
    /* ... then what the batch statistics add, with the sums over every rank. */
    bool ok = sum_over_ranks(c, sums, 2 * a->c) && (!dx || batch_statistics_term(c, s, sums, dx));
    free(sums);
    if (want_x) wb_grad_end(c, s->x, dx);
    if (want_g) wb_grad_end(c, s->gamma, dg);
    if (want_b) wb_grad_end(c, s->beta, db);
    return ok ? WB_OK : c->err;
}

/* running = (1 - momentum) running + momentum batch, through host copies;
 * torch's running_var takes the whole batch's unbiased variance. */
static bool update_running(wb_context *c, wb_tensor *running_mean, wb_tensor *running_var, const double *mean,
                           const double *var, double count, float momentum) {
    int64_t C = running_mean->numel;
    float *rm = host_copy(c, running_mean->data, C), *rv = rm ? host_copy(c, running_var->data, C) : NULL;
    for (int64_t ch = 0; rv && ch < C; ch++) {
        rm[ch] = (1.0f - momentum) * rm[ch] + momentum * (float)mean[ch];
        rv[ch] = (1.0f - momentum) * rv[ch] + momentum * (float)(var[ch] * count / (count - 1.0));
    }
    if (rv) {
        c->s->backend->upload(running_mean->data, rm, (size_t)C * sizeof *rm);
        c->s->backend->upload(running_var->data, rv, (size_t)C * sizeof *rv);
    }
    free(rm), free(rv);
    return rv != NULL;
}

wb_tensor *wb_sync_batch_norm(wb_context *c, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta,
                              wb_tensor *running_mean, wb_tensor *running_var, const wb_bn_args *a) {
    int64_t C = a->c;
    wb_tensor *y = wb_ctx_tensor_uninit(c, x->ndim, x->shape);
    wb_tensor *stats = wb_ctx_tensor_uninit(c, 1, (int64_t[]){3 * C});
    double *mean = wb_arena_alloc(&c->s->compute, (size_t)(3 * C) * sizeof *mean), count = 0;
    float *host = malloc((size_t)(3 * C) * sizeof *host);
    float *xh = y && stats && mean && host ? host_copy(c, x->data, x->numel) : NULL;
    if (!xh) {
        free(host);
        if (c->err == WB_OK) wb_ctx_fail(c, WB_ERR_NOMEM, "sync_bn: out of memory");
        return NULL;
    }
    double *var = mean + C, *invstd = mean + 2 * C;
    bool ok = global_stats(c, xh, a, mean, var, &count);
    free(xh);
    if (!ok) {
        free(host);
        return NULL;
    }
    for (int64_t ch = 0; ch < C; ch++) host[ch] = (float)mean[ch], host[C + ch] = (float)var[ch];
    c->s->backend->upload(stats->data, host, (size_t)(2 * C) * sizeof *host);
    /* Normalising with given statistics is the eval kernel's job; it also fills mean and invstd. */
    float *smean = stats->data, *svar = smean + C, *sinvstd = smean + 2 * C;
    c->s->backend->dense->bn_eval_forward(x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL, smean, svar,
                                          a, y->data, smean, sinvstd);
    if (running_mean && !update_running(c, running_mean, running_var, mean, var, count, a->momentum)) {
        free(host);
        return NULL;
    }
    /* the backward's xhat uses the kernel's float statistics, as the kernel's own part does */
    c->s->backend->download(host, smean, (size_t)C * sizeof *host);
    c->s->backend->download(host + 2 * C, sinvstd, (size_t)C * sizeof *host);
    for (int64_t ch = 0; ch < C; ch++) mean[ch] = host[ch], invstd[ch] = host[2 * C + ch];
    free(host);
    wb_tensor *in[3];
    int n_in = 0;
    in[n_in++] = x;
    if (gamma) in[n_in++] = gamma;
    if (beta) in[n_in++] = beta;
    if (wb_tape_needed(c, in, n_in)) {
        wb_tape_node *node = wb_tape_record(c, "sync_batch_norm", sync_backward, in, n_in, &y, 1, sizeof(sync_saved),
                                            WB_KEEP_IN(0) | WB_KEEP_IN(1) | WB_KEEP_IN(2));
        if (!node || !wb_tape_hold(c, node, &stats, 1)) return NULL;
        *(sync_saved *)node->saved = (sync_saved){*a, x, gamma, beta, stats, mean, invstd, count};
    }
    return y;
}
