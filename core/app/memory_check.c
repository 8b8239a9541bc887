#include "memory_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../config/params.h"
#include "../data/image_limits.h"
#include "../data/transforms.h"
#include "data_split.h"

static double gib(int64_t bytes) { return (double)bytes / (double)((int64_t)1 << 30); }

/* Saturating, so that absurd configs give a huge estimate, not a wrapped one. */
static int64_t mul(int64_t a, int64_t b) {
    if (a <= 0 || b <= 0) return 0;
    return a > INT64_MAX / b ? INT64_MAX : a * b;
}

static int64_t add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

/* The most pixels data.<split>'s pipeline outputs (0 when no step bounds it:
 * then the images' own size decides, unknown before loading them), and the
 * shorter side large images may be decoded down to (0: full size). */
static int64_t split_pixels(wb_experiment *e, const char *split, int *decode_side) {
    char err[1024];
    wb_pipeline *p = wb_data_split_pipeline(e, split, err, sizeof err);
    int64_t pixels = p ? wb_pipeline_max_pixels(p, 0) : 0; /* validate reports a bad pipeline */
    *decode_side = p ? wb_pipeline_decode_min_side(p) : 0;
    if (p) wb_pipeline_destroy(p);
    return pixels;
}

void wb_memory_estimate_of(wb_experiment *e, wb_session *s, const wb_model *m, wb_memory_estimate *out) {
    memset(out, 0, sizeof *out);
    const wb_params *data = wb_config_params(e->cfg, "data");
    int64_t batch = data ? wb_params_int(data, "batch_size") : 1;
    int64_t workers = data ? wb_params_int(data, "workers") : 0;
    int64_t largest = data ? wb_params_int(data, "max_image_pixels") : WB_IMAGE_MAX_PIXELS;
    static const char *const splits[] = {"train", "val", "test"};
    int64_t decoded = 0; /* the most pixels one image may hold in a loader thread */
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "data.%s", splits[i]);
        if (!wb_config_params(e->cfg, key)) continue;
        int side = 0;
        int64_t p = split_pixels(e, splits[i], &side);
        if (p > out->pixels) out->pixels = p;
        /* shrunk decodes keep at most 2x the side on each edge, and images below the threshold decode whole */
        int64_t d = side > 0 ? mul(4 * (int64_t)side, side) : largest;
        if (side > 0 && d < WB_IMAGE_SHRINK_ABOVE) d = WB_IMAGE_SHRINK_ABOVE;
        if (d > largest) d = largest;
        if (d > decoded) decoded = d;
    }
    /* the loader's pixel budget: every thread may hold its largest image at once,
     * about 17 bytes a pixel (decoded, sample and spare, 8-bit and float) */
    out->loader = mul(mul(workers > 0 ? workers : 1, decoded), 17);
    if (out->pixels == 0) out->pixels = 256 * 256; /* a lower bound, like the rest */
    /* float CHW batches: the loader's ring (2 per thread) and the one being trained on */
    int64_t batches = 2 * (workers > 0 ? workers : 1) + 1;
    out->input = mul(mul(batches, batch), mul(out->pixels, 3 * (int64_t)sizeof(float)));
    /* each stage output and its gradient */
    for (int i = 0; m && i < m->n_stages; i++) {
        const wb_module_slot *st = &m->stage[i];
        for (int k = 0; k < st->n_out; k++) {
            int64_t stride = st->out_specs[k].stride > 0 ? st->out_specs[k].stride : 1;
            int64_t cells = out->pixels / (stride * stride) + 1;
            int64_t bytes = mul(mul(batch, cells), mul(st->out_specs[k].channels, 2 * (int64_t)sizeof(float)));
            out->activations = add(out->activations, bytes);
            if (st->out_specs[k].channels > out->widest_channels)
                out->widest_stage = st->ctx.path, out->widest_channels = st->out_specs[k].channels;
        }
    }
    /* weights, gradients and two optimizer states */
    for (int i = 0; s && i < s->n_params; i++)
        out->params = add(out->params, mul(s->params[i].tensor->numel, 4 * (int64_t)sizeof(float)));
    out->total = add(add(add(out->input, out->activations), out->params), out->loader);
}

int64_t wb_memory_available(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    int64_t bytes = pages > 0 && page > 0 ? (int64_t)pages * page : INT64_MAX;
    FILE *f = fopen("/sys/fs/cgroup/memory.max", "r"); /* "max" when unlimited */
    long long limit;
    if (f && fscanf(f, "%lld", &limit) == 1 && limit > 0 && limit < bytes) bytes = limit;
    if (f) fclose(f);
    return bytes;
}

wb_status wb_memory_check(wb_experiment *e, wb_session *s, const wb_model *m, char *err, size_t n) {
    wb_memory_estimate est;
    wb_memory_estimate_of(e, s, m, &est);
    int64_t have = wb_memory_available();
    if (est.total <= have) return WB_OK;
    const wb_params *data = wb_config_params(e->cfg, "data");
    long long batch = data ? wb_params_int(data, "batch_size") : 1, workers = data ? wb_params_int(data, "workers") : 0;
    char lower[256];
    if (est.loader > est.input + est.activations)
        snprintf(lower, sizeof lower, "data.workers (%lld) or data.max_image_pixels (%lld), or resize first in the "
                 "pipelines so that large images decode smaller", workers,
                 (long long)(data ? wb_params_int(data, "max_image_pixels") : 0));
    else if (est.widest_channels > 4096) /* no detector needs that many: num_classes? */
        snprintf(lower, sizeof lower, "data.batch_size (%lld) or the size the pipelines resize images to (up to %lld "
                 "pixels per image), or model.%s's %d output channels (num_classes?)", batch, (long long)est.pixels,
                 est.widest_stage, est.widest_channels);
    else
        snprintf(lower, sizeof lower, "data.batch_size (%lld) or the size the pipelines resize images to (up to %lld "
                 "pixels per image)", batch, (long long)est.pixels);
    snprintf(err, n,
             "the experiment needs at least %.1f GiB of memory (input batches %.1f GiB, stage outputs %.1f GiB, "
             "parameters and optimizer state %.1f GiB, loader threads' images %.1f GiB), more than this machine's "
             "%.1f GiB; lower %s",
             gib(est.total), gib(est.input), gib(est.activations), gib(est.params), gib(est.loader), gib(have), lower);
    return WB_ERR_INVALID;
}
