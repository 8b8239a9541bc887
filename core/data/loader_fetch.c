#include "loader_fetch.h"

#include <stdio.h>
#include <string.h>
#include "image.h"
#include "../plugin/plugin_guard.h"

static const char *describe(const wb_sample *smp) {
    return smp->image_path ? smp->image_path : (smp->encoded ? "encoded bytes" : "pixels");
}

/* Messages start with what the sample is (its path, "encoded bytes", ...). */
static wb_status decode(const wb_fetch_source *src, const wb_sample *smp, wb_image *img, char *err,
                        size_t n) {
    char why[400];
    wb_status st = WB_ERR_INVALID;
    if (smp->pixels) {
        if (smp->width > 0 && smp->height > 0) {
            *img = (wb_image){smp->width, smp->height, smp->width, smp->height, (uint8_t *)smp->pixels};
            return WB_OK;
        }
        snprintf(why, sizeof why, "sample gives pixels but its size is %dx%d", smp->width, smp->height);
    } else if (smp->encoded) {
        st = wb_image_decode_memory(smp->encoded, smp->encoded_size, &src->decode, img, why, sizeof why);
    } else if (smp->image_path) {
        return wb_image_decode_file(smp->image_path, &src->decode, img, err, n); /* names the path */
    } else {
        snprintf(why, sizeof why, "sample has no image (no path, bytes or pixels)");
    }
    if (st != WB_OK) snprintf(err, n, "%s: %.380s", describe(smp), why);
    return st;
}

static wb_status check_boxes(const wb_fetch_source *src, const wb_sample *smp, char *err, size_t n) {
    if (src->max_boxes <= 0 || smp->num_boxes <= src->max_boxes) return WB_OK;
    snprintf(err, n,
             "%s: %d boxes, above data.max_boxes_per_image = %d; check its labels, or raise the limit if the "
             "image really holds that many objects",
             describe(smp), smp->num_boxes, src->max_boxes);
    return WB_ERR_INVALID;
}

/* get(), decode and widen item `index` into out; boxes still untransformed. */
static wb_status fetch_decoded(const wb_fetch_source *src, wb_context *ctx, int64_t index,
                               wb_data_sample *out, char *err, size_t err_size) {
    wb_sample smp = {.struct_size = sizeof smp};
    wb_ctx_clear_error(ctx);
    wb_status st;
    WB_PLUGIN_CALL_AT(src->vt, NULL, "dataset get", "data loader",
                      st = src->vt->get(src->dataset, &ctx->pub, index, &smp));
    if (st != WB_OK) {
        snprintf(err, err_size, "dataset get() failed: %.300s", ctx->msg[0] ? ctx->msg : "no message");
        return st;
    }
    wb_image img = {0};
    st = check_boxes(src, &smp, err, err_size);
    if (st == WB_OK) st = decode(src, &smp, &img, err, err_size);
    if (st == WB_OK) {
        if (!wb_data_sample_load(out, img.rgb, img.height, img.width, img.orig_height, img.orig_width,
                                 smp.boxes, smp.labels, smp.ignore, smp.num_boxes)) {
            snprintf(err, err_size, "%s: out of memory for a %dx%d image", describe(&smp), img.width, img.height);
            st = WB_ERR_NOMEM;
        }
        if (img.rgb != smp.pixels) wb_image_free(&img);
    }
    out->index = index;
    out->image_id = smp.image_id;
    if (src->vt->release_sample)
        WB_PLUGIN_CALL_AT(src->vt, NULL, "dataset release_sample", "data loader",
                          src->vt->release_sample(src->dataset, &smp));
    return st;
}

/* The other samples of a combining step live in slots[0 .. its count); the
 * steps they pass through may combine samples too, from the slots after. */
typedef struct extra_loader {
    const wb_fetch_source *src;
    wb_context *ctx;
    wb_data_sample *slots;
    int n_slots;
    const wb_batch_share *batch;
} extra_loader;

static void share(wb_data_sample *s, const wb_batch_share *b) {
    s->batch_rng = b->rng;
    s->batch_w = b->shape_w, s->batch_h = b->shape_h;
}

static wb_status load_extra(void *user, int slot, int64_t index, int step, uint64_t rng,
                            wb_data_sample **out, char *err, size_t err_size) {
    extra_loader *e = user;
    int used = wb_pipeline_extra_samples(e->src->pipeline, step);
    wb_data_sample *d = &e->slots[slot];
    *out = d;
    if (slot >= e->n_slots || used > e->n_slots) { /* the pipeline's limit makes this a bug */
        snprintf(err, err_size, "other sample %lld: no scratch slot left", (long long)index);
        return WB_ERR_INVALID;
    }
    char why[400] = "";
    wb_status st = fetch_decoded(e->src, e->ctx, index, d, why, sizeof why);
    share(d, e->batch);
    extra_loader nested = {e->src, e->ctx, e->slots + used, e->n_slots - used, e->batch};
    wb_sample_source more = {&nested, e->src->n_items, load_extra};
    if (st == WB_OK) st = wb_pipeline_apply(e->src->pipeline, 0, step, d, &rng, &more, why, sizeof why);
    if (st != WB_OK) snprintf(err, err_size, "other sample %lld: %s", (long long)index, why);
    return st;
}

wb_status wb_fetch_sample(const wb_fetch_source *src, wb_context *ctx, wb_data_sample *extra, int64_t epoch,
                          int64_t index, const wb_batch_share *batch, wb_data_sample *out, char *err, size_t err_size) {
    wb_status st = fetch_decoded(src, ctx, index, out, err, err_size);
    if (st != WB_OK) return st;
    share(out, batch);
    extra_loader e = {src, ctx, extra, WB_MAX_EXTRA_SAMPLES, batch};
    wb_sample_source more = {&e, src->n_items, load_extra};
    uint64_t rng = wb_transform_rng(src->seed, epoch, index);
    char why[400] = "";
    st = wb_pipeline_apply(src->pipeline, 0, -1, out, &rng, &more, why, sizeof why);
    if (st != WB_OK) snprintf(err, err_size, "sample %lld: %s", (long long)index, why);
    return st;
}

void wb_fetch_size(const wb_fetch_source *src, wb_context *ctx, int64_t index, int *w, int *h) {
    wb_sample smp = {.struct_size = sizeof smp};
    *w = *h = 0;
    wb_ctx_clear_error(ctx);
    wb_status st;
    WB_PLUGIN_CALL_AT(src->vt, NULL, "dataset get", "data loader",
                      st = src->vt->get(src->dataset, &ctx->pub, index, &smp));
    if (st != WB_OK) return;
    *w = smp.width, *h = smp.height;
    if ((*w <= 0 || *h <= 0) && smp.image_path) {
        char err[256];
        if (wb_image_probe_file(smp.image_path, w, h, err, sizeof err) != WB_OK) *w = *h = 0;
    }
    if (src->vt->release_sample)
        WB_PLUGIN_CALL_AT(src->vt, NULL, "dataset release_sample", "data loader",
                          src->vt->release_sample(src->dataset, &smp));
}

int wb_fetch_labels(const wb_fetch_source *src, wb_context *ctx, int64_t index, int num_classes, int *out, int max) {
    wb_sample smp = {.struct_size = sizeof smp};
    wb_ctx_clear_error(ctx);
    wb_status st;
    WB_PLUGIN_CALL_AT(src->vt, NULL, "dataset get", "data loader",
                      st = src->vt->get(src->dataset, &ctx->pub, index, &smp));
    if (st != WB_OK) return -1;
    int n = 0;
    for (int i = 0; i < smp.num_boxes; i++) {
        bool counted = !(smp.ignore && smp.ignore[i]) && smp.labels[i] >= 0 && smp.labels[i] < num_classes;
        if (counted && n < max) out[n] = smp.labels[i];
        n += counted;
    }
    if (src->vt->release_sample)
        WB_PLUGIN_CALL_AT(src->vt, NULL, "dataset release_sample", "data loader",
                          src->vt->release_sample(src->dataset, &smp));
    return n;
}
