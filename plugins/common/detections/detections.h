/* The test-time tail that one-stage heads share: a growing list of scored
 * (position, class) candidates and the best of them, torchvision's batched
 * NMS, and the detections mapped back to original-image pixels. Compiled
 * into each plugin that uses it (plugins link no core symbol and no other
 * plugin), with SDK calls only. */
#ifndef WB_PLUGIN_DETECTIONS_H
#define WB_PLUGIN_DETECTIONS_H

#include <stdint.h>
#include <workbench/workbench.h>

typedef struct det_candidate {
    float score, rank; /* rank: what the selection orders by (often the score itself) */
    int64_t index;     /* the head's own position: anchor, point or cell */
    int label;
} det_candidate;

typedef struct det_candidates {
    det_candidate *v;
    int64_t n, cap;
} det_candidates;

/* Appends x; 0 when out of memory (the list stays as it was). */
int det_push(det_candidates *c, det_candidate x);

/* Orders v[first..n) by rank (higher first; ties: lower index, then lower
 * label) and keeps the best k of them. */
void det_keep_best(det_candidates *c, int64_t first, int64_t k);

/* torchvision's batched_nms: up to 1000 boxes (its CPU switch) it shifts each
 * label's boxes by label * (max coordinate + 1) and runs one class-blind NMS,
 * whose float32 IoUs of the shifted boxes decide borderline pairs; above
 * that, NMS per label. shifted has room for n boxes. */
int det_torchvision_nms(const wb_host_api *host, const float *boxes, const float *scores, const int *labels, int n,
                        float iou_threshold, float *shifted, int *keep);

/* Room for n detections (at least one, so that no pointer is NULL), num = n;
 * 0 when out of memory, with d emptied. */
int det_alloc(wb_detections *d, int n);

/* The boxes keep[0..kept) of the candidates in original-image pixels,
 * original = (input - offset) / scale, clipped to the original image. */
wb_status det_write_kept(const float *boxes, const float *scores, const int *labels, const int *keep, int kept,
                         const wb_gt_image *meta, wb_detections *det);

/* The vtable's release_detections. */
void det_release(void *inst, wb_detections *d);

#endif
