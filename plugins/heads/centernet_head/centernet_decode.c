/* centernet_head: detections from the heatmap, as CenterNet's ctdet_decode
 * and the TF.js model's graph do it: sigmoid, keep a value only where it
 * equals the 3x3 max around it (max-pool "nms"), the top-k values over all
 * positions and classes, ordered as TensorFlow's top_k orders them (equal
 * values: the lower index of the NHWC-flattened map first), boxes read at
 * each peak's cell. Boxes go back to original pixels through the image's
 * scale and offset, unclipped (as the original model). */
#include <math.h>
#include <stdlib.h>
#include "centernet_head.h"
#include "detections.h"

typedef struct peak {
    float score;
    int64_t index; /* (y * W + x) * C + class */
} peak;

/* a ranks before b: higher score, then lower index. */
static int ranks_before(const peak *a, const peak *b) {
    return a->score > b->score || (a->score == b->score && a->index < b->index);
}

/* A min-heap of the k best peaks so far: the root is the worst kept. */
static void heap_sift_down(peak *heap, int n, int i) {
    for (;;) {
        int worst = i, l = 2 * i + 1, r = l + 1;
        if (l < n && ranks_before(&heap[worst], &heap[l])) worst = l;
        if (r < n && ranks_before(&heap[worst], &heap[r])) worst = r;
        if (worst == i) return;
        peak t = heap[i];
        heap[i] = heap[worst], heap[worst] = t;
        i = worst;
    }
}

static void heap_push(peak *heap, int *n, int k, peak p) {
    if (*n < k) {
        int i = (*n)++;
        heap[i] = p;
        while (i > 0 && ranks_before(&heap[(i - 1) / 2], &heap[i])) {
            peak t = heap[i];
            heap[i] = heap[(i - 1) / 2], heap[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (ranks_before(&p, &heap[0])) {
        heap[0] = p;
        heap_sift_down(heap, *n, 0);
    }
}

static int compare_rank(const void *a, const void *b) {
    return ranks_before(a, b) ? -1 : ranks_before(b, a) ? 1 : 0;
}

static int is_peak(const float *prob, int fh, int fw, int y, int x) {
    float v = prob[(size_t)y * fw + x];
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            int yy = y + dy, xx = x + dx;
            if (yy >= 0 && yy < fh && xx >= 0 && xx < fw && prob[(size_t)yy * fw + xx] > v) return 0;
        }
    return 1;
}

wb_status cn_decode(const centernet_head *h, const float *heat, const float *box, const float *offset, int fh,
                    int fw, const wb_gt_image *img, wb_detections *det) {
    size_t plane = (size_t)fh * fw;
    int C = h->num_classes, k = h->topk, n = 0;
    float *prob = malloc(plane * sizeof *prob);
    peak *heap = malloc((size_t)k * sizeof *heap);
    if (!prob || !heap) {
        free(prob), free(heap);
        return WB_ERR_NOMEM;
    }
    for (int c = 0; c < C; c++) {
        const float *logit = heat + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) prob[i] = 1.0f / (1.0f + expf(-logit[i]));
        for (int y = 0; y < fh; y++)
            for (int x = 0; x < fw; x++)
                if (is_peak(prob, fh, fw, y, x)) {
                    peak p = {prob[(size_t)y * fw + x], ((int64_t)y * fw + x) * C + c};
                    heap_push(heap, &n, k, p);
                }
    }
    free(prob);
    qsort(heap, (size_t)n, sizeof *heap, compare_rank);
    if (!det_alloc(det, n)) {
        free(heap);
        return WB_ERR_NOMEM;
    }
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (heap[i].score < h->score_thr) break;
        int64_t cell = heap[i].index / C;
        int y = (int)(cell / fw), x = (int)(cell % fw);
        float b[4];
        if (h->ltrb) {
            float gx = (float)(x * h->stride), gy = (float)(y * h->stride), s = h->box_scale;
            b[0] = gx - s * box[cell], b[1] = gy - s * box[plane + cell];
            b[2] = gx + s * box[2 * plane + cell], b[3] = gy + s * box[3 * plane + cell];
        } else {
            float cx = (x + offset[cell]) * h->stride, cy = (y + offset[plane + cell]) * h->stride;
            float w = box[cell] * h->stride, hh = box[plane + cell] * h->stride;
            b[0] = cx - w / 2, b[1] = cy - hh / 2, b[2] = cx + w / 2, b[3] = cy + hh / 2;
        }
        float *o = &det->boxes[4 * kept];
        o[0] = (b[0] - img->offset_x) / img->scale_x, o[1] = (b[1] - img->offset_y) / img->scale_y;
        o[2] = (b[2] - img->offset_x) / img->scale_x, o[3] = (b[3] - img->offset_y) / img->scale_y;
        det->scores[kept] = heap[i].score;
        det->labels[kept] = (int)(heap[i].index % C);
        kept++;
    }
    free(heap);
    det->num = kept;
    return WB_OK;
}
