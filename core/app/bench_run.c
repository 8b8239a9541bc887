#include "bench_run.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "../config/params.h"
#include "../model/model.h"
#include "../runtime/host_copy.h"
#include "../train/optimizer.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

typedef struct timing {
    double fwd[3], bwd[3], loss, step, total;
    double fwd_flops[3], bwd_flops[3];
    /* tensor pool bytes: live after each stage's forward and after the loss, and the highest while each stage's
     * backward ran: where the iteration's tensor peak is */
    size_t live_fwd[3], live_loss, peak_fwd[3], peak_loss, peak_bwd[3];
} timing;

/* The pool's peak while fn's part ran; the pool's overall peak is kept. */
static size_t part_peak_begin(wb_pool *p) {
    size_t before = p->peak;
    p->peak = p->in_use;
    return before;
}

static size_t part_peak_end(wb_pool *p, size_t before) {
    size_t part = p->peak;
    if (before > p->peak) p->peak = before;
    return part;
}

/* One training iteration, timed per part; false with err on failure. */
static bool iteration(wb_model *m, wb_optimizer *opt, wb_tensor *images, const wb_batch_truth *truth, timing *t,
                      char *err, size_t n) {
    double t0 = now_ms();
    wb_tensor *const *in = &images;
    int n_in = 1;
    for (int i = 0; i < m->n_stages; i++) {
        double a = now_ms();
        uint64_t f0 = m->s->flops;
        size_t before = part_peak_begin(&m->s->tensors);
        if (wb_slot_forward(&m->stage[i], in, n_in, images->shape[2], images->shape[3], true, err, n) != WB_OK)
            return false;
        t->fwd[i] += now_ms() - a;
        t->fwd_flops[i] += (double)(m->s->flops - f0);
        t->peak_fwd[i] = part_peak_end(&m->s->tensors, before);
        t->live_fwd[i] = m->s->tensors.in_use;
        in = m->stage[i].out;
        n_in = m->stage[i].n_out;
    }
    double a = now_ms();
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n_terms = 0;
    size_t before = part_peak_begin(&m->s->tensors);
    if (wb_model_loss(m, truth, terms, &n_terms, err, n) != WB_OK) return false;
    t->peak_loss = part_peak_end(&m->s->tensors, before);
    t->loss += now_ms() - a;
    t->live_loss = m->s->tensors.in_use;
    /* wb_model_backward seeds the loss gradients and replays every stage;
     * time the stages one by one the same way. */
    for (int i = 0; i < n_terms; i++) {
        wb_module_slot *head = wb_model_head(m);
        float *g = wb_grad_begin(&head->ctx, terms[i].value);
        if (!g) return false;
        g[0] = 1.0f;
        wb_grad_end(&head->ctx, terms[i].value, g);
    }
    for (int i = m->n_stages - 1; i >= 0; i--) {
        a = now_ms();
        uint64_t f0 = m->s->flops;
        before = part_peak_begin(&m->s->tensors);
        if (wb_slot_backward(&m->stage[i], err, n) != WB_OK) return false;
        t->peak_bwd[i] = part_peak_end(&m->s->tensors, before);
        t->bwd[i] += now_ms() - a;
        t->bwd_flops[i] += (double)(m->s->flops - f0);
    }
    a = now_ms();
    wb_optimizer_step(opt, 1e-4f);
    t->step += now_ms() - a;
    t->total += now_ms() - t0;
    return true;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n iteration times (sorts them): steadier than the mean on a shared machine. */
static double median_ms(double *ms, int n) {
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    return n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
}

/* Inference: forward without a tape, then the head's decoding and NMS. */
static bool inference(wb_model *m, wb_tensor *images, const wb_batch_truth *meta, double *ms, char *err, size_t n) {
    double t0 = now_ms();
    wb_detections dets[meta->batch];
    if (wb_model_forward(m, images, false, err, n) != WB_OK || wb_model_predict(m, meta, dets, err, n) != WB_OK)
        return false;
    wb_model_release_detections(m, dets, meta->batch);
    *ms += now_ms() - t0;
    return true;
}

int wb_bench_run(wb_experiment *e, const wb_bench_opts *o, FILE *out) {
    wb_session *s = wb_experiment_session(e, o->threads, out);
    if (!s) return e->session_exit;
    s->pool_param_grads = true; /* every iteration steps and zeroes the gradients, as the trainer's without accumulation */
    char err[2048];
    wb_model *m = NULL;
    int rc = 1;
    if (wb_model_build(s, wb_config_params(e->cfg, "model"), &m, err, sizeof err) != WB_OK ||
        wb_model_configure_recompute(m, wb_config_params(e->cfg, "train.recompute"), err, sizeof err) != WB_OK) {
        fprintf(out, "error: %s\n", err);
        wb_model_destroy(m);
        wb_session_destroy(s);
        return 2;
    }
    /* Only training needs an optimizer: its momentum buffers would add a
     * second copy of the weights to the inference figure. */
    wb_optim_config oc = {.type = WB_OPTIM_SGD, .lr = 1e-4f, .momentum = 0.9f, .weight_decay = 1e-4f};
    wb_optimizer *opt = o->inference ? NULL : wb_optimizer_create(s, &oc);
    if (!o->inference && !opt) {
        fprintf(out, "error: out of memory for the optimizer state\n");
        wb_model_destroy(m);
        wb_session_destroy(s);
        return 1;
    }
    /* One centred box per image, so every head has positives. */
    const int w = o->width, h = o->height;
    float box[4] = {w * 0.25f, h * 0.25f, w * 0.75f, h * 0.75f};
    int label = 0;
    uint8_t not_ignored = 0;
    wb_gt_image gt[o->batch];
    for (int i = 0; i < o->batch; i++)
        gt[i] = (wb_gt_image){sizeof gt[i], 1, box, &label, &not_ignored, h, w, h, w, 1, 1, i, 0, 0};
    wb_batch_truth truth = {sizeof truth, o->batch, h, w, gt};
    timing t = {0};
    double *iter_ms = malloc(sizeof *iter_ms * (size_t)o->iters);
    if (!iter_ms) {
        fprintf(out, "error: out of memory for %d iteration times\n", o->iters);
        wb_optimizer_destroy(opt);
        wb_model_destroy(m);
        wb_session_destroy(s);
        return 1;
    }
    uint64_t rng = 1;
    int done = 0;
    for (int it = 0; it <= o->iters; it++) {
        wb_context c;
        wb_context_init(&c, s, "bench", false);
        int64_t shape[4] = {o->batch, 3, h, w};
        wb_tensor *x = wb_ctx_tensor_uninit(&c, 4, shape);
        if (!x) break;
        float *host = wb_host_write(s->backend, x->data, x->numel);
        if (!host) break;
        for (int64_t k = 0; k < x->numel; k++) host[k] = 2.0f * wb_rng_uniform(&rng) - 1.0f;
        wb_host_write_end(s->backend, x->data, host, x->numel);
        timing one = {0};
        bool ok = o->inference ? inference(m, x, &truth, &one.total, err, sizeof err)
                               : iteration(m, opt, x, &truth, &one, err, sizeof err);
        if (!ok) {
            fprintf(out, "error: %s\n", err);
            break;
        }
        if (it > 0) { /* the first iteration creates primitives and grows the arena */
            for (int i = 0; i < 3; i++) {
                t.fwd[i] += one.fwd[i], t.bwd[i] += one.bwd[i];
                t.fwd_flops[i] += one.fwd_flops[i], t.bwd_flops[i] += one.bwd_flops[i];
            }
            t.loss += one.loss, t.step += one.step, t.total += one.total;
            /* the same every iteration: the last one's */
            memcpy(t.live_fwd, one.live_fwd, sizeof t.live_fwd);
            memcpy(t.peak_fwd, one.peak_fwd, sizeof t.peak_fwd);
            memcpy(t.peak_bwd, one.peak_bwd, sizeof t.peak_bwd);
            t.live_loss = one.live_loss, t.peak_loss = one.peak_loss;
            iter_ms[done++] = one.total;
        }
        wb_session_zero_grad(s);
        wb_model_end_iteration(m);
        wb_session_reset_compute(s);
    }
    if (done > 0 && o->inference) {
        double it_ms = t.total / done;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(out, "%d inference iterations of batch %d at %dx%d, %d threads: %.1f ms per iteration (median %.1f "
                "ms), %.1f ms per image\npeak memory: %.0f MiB resident; tensors peak %.0f MiB, compute arena peak "
                "%.0f MiB, weights arena %.0f MiB\n", done, o->batch, w, h, s->threads, it_ms,
                median_ms(iter_ms, done), it_ms / o->batch,
                ru.ru_maxrss / 1024.0, s->tensors.peak / 1048576.0, s->compute.peak / 1048576.0,
                s->weight_data->used / 1048576.0);
        rc = 0;
    } else if (done > 0) {
        double it_ms = t.total / done;
        fprintf(out, "%d iterations of batch %d at %dx%d, %d threads: %.1f ms per iteration (median %.1f ms, "
                "%.2f img/s)\n\n", done, o->batch, w, h, s->threads, it_ms, median_ms(iter_ms, done),
                1e3 * o->batch / it_ms);
        fprintf(out, "%-10s %-16s %11s %9s %12s %9s %7s\n", "module", "type", "forward ms", "GFLOP/s", "backward ms",
                "GFLOP/s", "share");
        for (int i = 0; i < m->n_stages; i++) {
            double f = t.fwd[i] / done, b = t.bwd[i] / done;
            /* conv FLOPs only: the figure says how close the convolutions run to the machine's peak */
            fprintf(out, "%-10s %-16s %11.1f %9.1f %12.1f %9.1f %6.1f%%\n", m->stage[i].ctx.path,
                    m->stage[i].desc->type_name, f, t.fwd_flops[i] / t.fwd[i] * 1e-6, b, t.bwd_flops[i] / t.bwd[i] * 1e-6,
                    100.0 * (f + b) / it_ms);
        }
        fprintf(out, "%-10s %-16s %11.1f %9s %12s %9s %6.1f%%\n", "loss", "", t.loss / done, "", "", "",
                100.0 * t.loss / done / it_ms);
        fprintf(out, "%-10s %-16s %11.1f %9s %12s %9s %6.1f%%\n", "optimizer", "sgd", t.step / done, "", "", "",
                100.0 * t.step / done / it_ms);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        /* Reserved above the peak is fragmentation: regions the pool keeps. */
        fprintf(out, "\npeak memory: %.0f MiB resident; tensors peak %.0f MiB (pool regions %.0f MiB), compute "
                "arena peak %.0f MiB, weights arena %.0f MiB\n", ru.ru_maxrss / 1024.0, s->tensors.peak / 1048576.0,
                s->tensors.reserved / 1048576.0, s->compute.peak / 1048576.0, s->weight_data->used / 1048576.0);
        fprintf(out, "tensor pool MiB, peak during / live after each part:");
        for (int i = 0; i < m->n_stages; i++)
            fprintf(out, " %s forward %.0f / %.0f,", m->stage[i].ctx.path, t.peak_fwd[i] / 1048576.0,
                    t.live_fwd[i] / 1048576.0);
        fprintf(out, " loss %.0f / %.0f; backward", t.peak_loss / 1048576.0, t.live_loss / 1048576.0);
        for (int i = m->n_stages - 1; i >= 0; i--)
            fprintf(out, " %s %.0f%s", m->stage[i].ctx.path, t.peak_bwd[i] / 1048576.0, i ? "," : "\n");
        rc = 0;
    }
    free(iter_ms);
    wb_optimizer_destroy(opt);
    wb_model_destroy(m);
    wb_session_destroy(s);
    return rc;
}
