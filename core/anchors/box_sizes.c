#include "box_sizes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../data/image_header.h"
#include "../plugin/plugin_guard.h"

/* The sample's image size: the plugin's when it knows it, else the header's. */
static bool image_size(const wb_sample *s, int *w, int *h, char *err, size_t n) {
    if (s->width > 0 && s->height > 0) {
        *w = s->width, *h = s->height;
        return true;
    }
    wb_image_header hdr;
    const char *why = "the sample has no image (no path, bytes or pixels)";
    wb_header_result r = WB_HDR_BAD;
    if (s->encoded) r = wb_image_header_parse(s->encoded, s->encoded_size, &hdr, &why);
    else if (s->image_path) r = wb_image_header_read_file(s->image_path, &hdr, &why);
    if (r != WB_HDR_OK) {
        snprintf(err, n, "%s: %s", s->image_path ? s->image_path : "encoded image", why);
        return false;
    }
    *w = hdr.width, *h = hdr.height;
    return true;
}

static bool grow(wb_box_sizes *b, int64_t *cap, int64_t need) {
    if (need <= *cap) return true;
    int64_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    float *wh = realloc(b->wh, sizeof *wh * 2 * (size_t)c);
    if (!wh) return false;
    b->wh = wh, *cap = c;
    return true;
}

/* Appends sample i's size and boxes; false with err on failure. */
static bool add_sample(wb_box_sizes *b, int64_t *cap, int64_t i, const wb_sample *s, char *err, size_t n) {
    wb_box_image *im = &b->images[i];
    if (!image_size(s, &im->width, &im->height, err, n)) return false;
    if (s->image_path && !(im->path = strdup(s->image_path))) goto nomem;
    if (!grow(b, cap, b->n + s->num_boxes)) goto nomem;
    im->first = b->n;
    for (int k = 0; k < s->num_boxes; k++) {
        const float *box = s->boxes + 4 * k;
        float w = box[2] - box[0], h = box[3] - box[1];
        if ((s->ignore && s->ignore[k]) || !(w > 0 && h > 0)) continue; /* training drops boxes without area */
        b->wh[2 * b->n] = w, b->wh[2 * b->n + 1] = h;
        b->n++;
    }
    im->count = b->n - im->first;
    return true;
nomem:
    snprintf(err, n, "out of memory for the box sizes of sample %lld", (long long)i);
    return false;
}

wb_status wb_box_sizes_read(const wb_dataset_vtable *vt, void *ds, wb_context *c, wb_box_sizes *out, char *err,
                            size_t err_size) {
    memset(out, 0, sizeof *out);
    int64_t n = vt->length(ds), cap = 0;
    out->images = calloc((size_t)(n > 0 ? n : 1), sizeof *out->images);
    if (!out->images) {
        snprintf(err, err_size, "out of memory for %lld images", (long long)n);
        return WB_ERR_NOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        wb_sample smp = {.struct_size = sizeof smp};
        wb_status got;
        WB_PLUGIN_CALL_AT(vt, NULL, "dataset get", "autoanchor", got = vt->get(ds, &c->pub, i, &smp));
        if (got != WB_OK) {
            snprintf(err, err_size, "sample %lld: %s", (long long)i, c->msg[0] ? c->msg : "the plugin gave no message");
            return got;
        }
        char why[1024];
        bool ok = add_sample(out, &cap, i, &smp, why, sizeof why);
        WB_PLUGIN_CALL_AT(vt, NULL, "dataset release_sample", "autoanchor", vt->release_sample(ds, &smp));
        out->n_images = i + 1;
        if (!ok) {
            snprintf(err, err_size, "sample %lld: %s", (long long)i, why);
            return WB_ERR_IO;
        }
    }
    return WB_OK;
}

void wb_box_sizes_scaled(const wb_box_sizes *b, int img_size, const double *scales, float *out) {
    for (int64_t i = 0; i < b->n_images; i++) {
        const wb_box_image *im = &b->images[i];
        double longer = im->width > im->height ? im->width : im->height;
        /* YOLOv5: normalised size times img_size * (w, h) / max(w, h) * scale */
        double sw = img_size * im->width / longer, sh = img_size * im->height / longer;
        double s = scales ? scales[i] : 1.0;
        for (int64_t j = im->first; j < im->first + im->count; j++) {
            out[2 * j] = (float)((double)b->wh[2 * j] / im->width * (sw * s));
            out[2 * j + 1] = (float)((double)b->wh[2 * j + 1] / im->height * (sh * s));
        }
    }
}

void wb_box_sizes_free(wb_box_sizes *b) {
    for (int64_t i = 0; i < b->n_images; i++) free(b->images[i].path);
    free(b->images);
    free(b->wh);
    memset(b, 0, sizeof *b);
}
