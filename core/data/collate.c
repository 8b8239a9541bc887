#include "collate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int round_up(int v, int d) { return d > 1 ? (v + d - 1) / d * d : v; }

static bool reserve(wb_batch *b, int n, int boxes, size_t image_floats) {
    if (image_floats > b->images_cap) {
        float *p = realloc(b->images, image_floats * sizeof *p);
        if (!p) return false;
        b->images = p, b->images_cap = image_floats;
    }
    if (n > b->img_cap) {
        wb_gt_image *g = realloc(b->gt, (size_t)n * sizeof *g);
        if (g) b->gt = g;
        wb_batch_image *i = realloc(b->info, (size_t)n * sizeof *i);
        if (i) b->info = i;
        if (!g || !i) return false;
        b->img_cap = n;
    }
    if (boxes > b->box_cap) {
        float *bx = realloc(b->boxes, (size_t)boxes * 4 * sizeof *bx);
        if (bx) b->boxes = bx;
        int *l = realloc(b->labels, (size_t)boxes * sizeof *l);
        if (l) b->labels = l;
        uint8_t *ig = realloc(b->ignore, (size_t)boxes);
        if (ig) b->ignore = ig;
        if (!bx || !l || !ig) return false;
        b->box_cap = boxes;
    }
    return true;
}

/* Row y of an HWC image split into three channel rows (one pass over the
 * source row, which stays in L1, rather than one pass per channel). */
static void split_row_f32(const float *restrict src, int w, float *restrict r, float *restrict g, float *restrict b) {
    for (int x = 0; x < w; x++) r[x] = src[3 * x], g[x] = src[3 * x + 1], b[x] = src[3 * x + 2];
}

static void split_row_u8(const uint8_t *restrict src, int w, float *restrict r, float *restrict g, float *restrict b) {
    for (int x = 0; x < w; x++) r[x] = src[3 * x], g[x] = src[3 * x + 1], b[x] = src[3 * x + 2];
}

/* HWC sample image (8-bit or float) into the CHW slot of the padded batch
 * tensor, zeros right of and below it: each value is written once. */
static void copy_chw(float *dst, int pad_h, int pad_w, const wb_data_sample *s) {
    const size_t plane = (size_t)pad_h * pad_w, tail = (size_t)(pad_w - s->w) * sizeof(float);
    for (int y = 0; y < s->h; y++) {
        float *r = dst + (size_t)y * pad_w, *g = r + plane, *b = g + plane;
        if (s->is_float)
            split_row_f32(s->img + (size_t)y * s->w * 3, s->w, r, g, b);
        else
            split_row_u8(s->img8 + (size_t)y * s->w * 3, s->w, r, g, b);
        memset(r + s->w, 0, tail);
        memset(g + s->w, 0, tail);
        memset(b + s->w, 0, tail);
    }
    for (int c = 0; c < 3; c++)
        memset(dst + c * plane + (size_t)s->h * pad_w, 0, (size_t)(pad_h - s->h) * pad_w * sizeof(float));
}

wb_status wb_collate(wb_batch *b, wb_data_sample *const *samples, int n, int size_divisor, char *err,
                     size_t err_size) {
    int max_h = 0, max_w = 0, boxes = 0;
    for (int i = 0; i < n; i++) {
        if (samples[i]->h > max_h) max_h = samples[i]->h;
        if (samples[i]->w > max_w) max_w = samples[i]->w;
        boxes += samples[i]->num_boxes;
    }
    int pad_h = round_up(max_h, size_divisor), pad_w = round_up(max_w, size_divisor);
    size_t floats = (size_t)n * 3 * pad_h * pad_w;
    if (!reserve(b, n, boxes > 0 ? boxes : 1, floats)) {
        snprintf(err, err_size, "collate: out of memory for a batch of %d images of %dx%d", n, pad_w, pad_h);
        return WB_ERR_NOMEM;
    }
    int at = 0;
    for (int i = 0; i < n; i++) {
        const wb_data_sample *s = samples[i];
        copy_chw(b->images + (size_t)i * 3 * pad_h * pad_w, pad_h, pad_w, s);
        if (s->num_boxes > 0) { /* an image without boxes may have no box arrays at all */
            memcpy(b->boxes + 4 * at, s->boxes, (size_t)s->num_boxes * 4 * sizeof(float));
            memcpy(b->labels + at, s->labels, (size_t)s->num_boxes * sizeof(int));
            memcpy(b->ignore + at, s->ignore, (size_t)s->num_boxes);
        }
        b->gt[i] = (wb_gt_image){
            .struct_size = sizeof(wb_gt_image),
            .num_boxes = s->num_boxes,
            .boxes = b->boxes + 4 * at,
            .labels = b->labels + at,
            .ignore = b->ignore + at,
            .img_h = s->valid_h,
            .img_w = s->valid_w,
            .ori_h = s->ori_h,
            .ori_w = s->ori_w,
            .scale_x = s->scale_x,
            .scale_y = s->scale_y,
            .image_id = s->image_id,
            .offset_x = s->offset_x,
            .offset_y = s->offset_y,
        };
        b->info[i] = (wb_batch_image){s->index, s->h, s->w, s->flip_h, s->flip_v};
        at += s->num_boxes;
    }
    b->n = n;
    b->pad_h = pad_h, b->pad_w = pad_w;
    b->truth = (wb_batch_truth){sizeof(wb_batch_truth), n, pad_h, pad_w, b->gt};
    return WB_OK;
}

void wb_batch_free(wb_batch *b) {
    free(b->images);
    free(b->gt);
    free(b->info);
    free(b->boxes);
    free(b->labels);
    free(b->ignore);
    memset(b, 0, sizeof *b);
}
