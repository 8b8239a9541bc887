/* YOLOv5's build_targets (utils/loss.py of 7.0) on host memory. A box is a
 * target of every anchor whose width and height ratios to it stay below
 * anchor_t; besides its own cell, the two neighbouring cells nearest its
 * centre (offset g = 0.5) predict it too, as long as the centre is more than
 * one cell from that image border. Grid coordinates are pixels / stride
 * (YOLOv5's normalised coordinates times the map size, for input sizes that
 * are multiples of the stride). */
#include <math.h>
#include "yolov5_head.h"

/* The five cells of YOLOv5's `off`: the centre's own, then the ones to the
 * left, above, right and below, taken when the centre lies in the near half
 * of its cell and more than one cell from that border. */
enum { OWN, LEFT, UP, RIGHT, DOWN, N_OFFSETS };

static double frac(double v) { return v - floor(v); } /* Python's v % 1 */

static int takes_offset(int off, double gx, double gy, int H, int W) {
    double ix = W - gx, iy = H - gy;
    switch (off) {
    case OWN: return 1;
    case LEFT: return frac(gx) < 0.5 && gx > 1.0;
    case UP: return frac(gy) < 0.5 && gy > 1.0;
    case RIGHT: return frac(ix) < 0.5 && ix > 1.0;
    default: return frac(iy) < 0.5 && iy > 1.0;
    }
}

static int clampi(int64_t v, int hi) { return v < 0 ? 0 : v > hi ? hi : (int)v; }

int64_t yolov5_max_targets(const yolov5_head *h, const wb_batch_truth *truth) {
    int64_t boxes = 0;
    for (int b = 0; b < truth->batch; b++) boxes += truth->images[b].num_boxes;
    return boxes * h->na * N_OFFSETS;
}

int yolov5_build_targets(const yolov5_head *h, const float *anchors_px, int l, int H, int W,
                         const wb_batch_truth *truth, yolov5_target *out) {
    static const double dx[N_OFFSETS] = {0, 0.5, 0, -0.5, 0}, dy[N_OFFSETS] = {0, 0, 0.5, 0, -0.5};
    const float stride = (float)h->strides[l];
    int n = 0;
    for (int off = 0; off < N_OFFSETS; off++)
        for (int a = 0; a < h->na; a++) {
            float aw = anchors_px[2 * a] / stride, ah = anchors_px[2 * a + 1] / stride; /* YOLOv5's m.anchors */
            for (int b = 0; b < truth->batch; b++) {
                const wb_gt_image *img = &truth->images[b];
                for (int i = 0; i < img->num_boxes; i++) {
                    if (img->ignore[i]) continue;
                    const float *box = img->boxes + 4 * i;
                    double gx = 0.5 * ((double)box[0] + box[2]) / stride, gy = 0.5 * ((double)box[1] + box[3]) / stride;
                    double gw = ((double)box[2] - box[0]) / stride, gh = ((double)box[3] - box[1]) / stride;
                    double rw = gw / aw, rh = gh / ah;
                    if (!(fmax(fmax(rw, 1.0 / rw), fmax(rh, 1.0 / rh)) < h->anchor_t)) continue;
                    if (!takes_offset(off, gx, gy, H, W)) continue;
                    /* YOLOv5 clamps the cell in place before it takes the box offsets from it */
                    int gi = clampi((int64_t)(gx - dx[off]), W - 1), gj = clampi((int64_t)(gy - dy[off]), H - 1);
                    out[n++] = (yolov5_target){.b = b, .a = a, .gj = gj, .gi = gi, .cls = img->labels[i],
                                               .box = {(float)(gx - gi), (float)(gy - gj), (float)gw, (float)gh},
                                               .anchor = {aw, ah}};
                }
            }
        }
    return n;
}
