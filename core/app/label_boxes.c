#include "label_boxes.h"

#include <stdlib.h>
#include <string.h>
#include "../data/image_header.h"
#include "../plugin/plugin_guard.h"
#include "../runtime/context.h"

/* The image's displayed size: the dataset's word, else the file's or bytes' header. */
static bool image_size(const wb_sample *smp, int *w, int *h) {
    wb_image_header hdr;
    const char *why;
    if (smp->width > 0 && smp->height > 0) {
        *w = smp->width, *h = smp->height;
        return true;
    }
    wb_header_result r = smp->image_path ? wb_image_header_read_file(smp->image_path, &hdr, &why)
                         : smp->encoded  ? wb_image_header_parse(smp->encoded, smp->encoded_size, &hdr, &why)
                                         : WB_HDR_BAD;
    if (r != WB_HDR_OK) return false;
    *w = hdr.width, *h = hdr.height;
    return true;
}

static bool grow(wb_label_set *set, size_t need) {
    if (need <= set->cap) return true;
    size_t cap = set->cap ? set->cap : 4096;
    while (cap < need) cap *= 2;
    wb_label_box *b = realloc(set->boxes, cap * sizeof *b);
    if (b) set->boxes = b;
    float *w = realloc(set->width_px, cap * sizeof *w);
    if (w) set->width_px = w;
    float *h = realloc(set->height_px, cap * sizeof *h);
    if (h) set->height_px = h;
    uint8_t *g = realloc(set->ignore, cap);
    if (g) set->ignore = g;
    if (!b || !w || !h || !g) return false;
    set->cap = cap;
    return true;
}

wb_status wb_label_set_collect(const wb_data_split *d, wb_session *s, wb_label_set *out) {
    memset(out, 0, sizeof *out);
    int64_t len = d->vt->length(d->ds);
    wb_context c;
    wb_context_init(&c, s, "plots", false);
    for (int64_t i = 0; i < len; i++) {
        wb_sample smp = {.struct_size = sizeof smp};
        wb_status got;
        WB_PLUGIN_CALL(d->desc, "get", d->name, got = d->vt->get(d->ds, &c.pub, i, &smp));
        if (got != WB_OK) { /* the loader reports bad samples; the statistics do without them */
            wb_ctx_clear_error(&c);
            out->unreadable++;
            continue;
        }
        out->images++;
        out->empty_images += smp.num_boxes == 0;
        int w = 0, h = 0;
        if (smp.num_boxes > 0 && !image_size(&smp, &w, &h)) out->unsized++;
        else if (smp.num_boxes > 0 && !grow(out, out->n + (size_t)smp.num_boxes)) {
            d->vt->release_sample(d->ds, &smp);
            return WB_ERR_NOMEM;
        }
        for (int k = 0; k < smp.num_boxes && w > 0 && h > 0; k++, out->n++) {
            const float *b = smp.boxes + 4 * k;
            out->boxes[out->n] = (wb_label_box){smp.labels[k], (b[0] + b[2]) / 2 / w, (b[1] + b[3]) / 2 / h,
                                                (b[2] - b[0]) / w, (b[3] - b[1]) / h};
            out->width_px[out->n] = b[2] - b[0], out->height_px[out->n] = b[3] - b[1];
            out->ignore[out->n] = smp.ignore ? smp.ignore[k] : 0;
        }
        d->vt->release_sample(d->ds, &smp);
    }
    return WB_OK;
}

void wb_label_set_free(wb_label_set *set) {
    free(set->boxes), free(set->width_px), free(set->height_px), free(set->ignore);
    memset(set, 0, sizeof *set);
}
