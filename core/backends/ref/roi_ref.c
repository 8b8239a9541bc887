/* Reference RoIAlign and RoIPool: every output bin computed on its own,
 * straight from roi_geometry.h, in torchvision's order of summation. */
#include <float.h>
#include <string.h>
#include "../roi_geometry.h"
#include "gather_ref.h"

static int64_t out_index(const wb_roi_args *a, int64_t k, int64_t ch, int ph, int pw) {
    return ((k * a->c + ch) * a->out_h + ph) * a->out_w + pw;
}

void wb_ref_roi_align_forward(const float *feat, const float *rois, const wb_roi_args *a, float *y) {
    for (int64_t k = 0; k < a->k; k++) {
        wb_roi_box b = wb_roi_align_box(rois + 5 * k, a);
        for (int64_t ch = 0; ch < a->c; ch++) {
            const float *plane = feat + (b.batch * a->c + ch) * a->h * a->w;
            for (int ph = 0; ph < a->out_h; ph++) {
                for (int pw = 0; pw < a->out_w; pw++) {
                    float sum = 0.0f;
                    for (int iy = 0; iy < b.grid_h; iy++) {
                        wb_roi_lerp ly = wb_roi_lerp_at(wb_roi_sample_at(b.start_h, b.bin_h, b.grid_h, ph, iy), a->h);
                        for (int ix = 0; ix < b.grid_w; ix++) {
                            wb_roi_lerp lx =
                                wb_roi_lerp_at(wb_roi_sample_at(b.start_w, b.bin_w, b.grid_w, pw, ix), a->w);
                            if (!ly.valid || !lx.valid) continue;
                            sum += ly.w_lo * lx.w_lo * plane[ly.lo * a->w + lx.lo] +
                                   ly.w_lo * lx.w_hi * plane[ly.lo * a->w + lx.hi] +
                                   ly.w_hi * lx.w_lo * plane[ly.hi * a->w + lx.lo] +
                                   ly.w_hi * lx.w_hi * plane[ly.hi * a->w + lx.hi];
                        }
                    }
                    y[out_index(a, k, ch, ph, pw)] = sum / b.count;
                }
            }
        }
    }
}

void wb_ref_roi_align_backward(const float *dy, const float *rois, const wb_roi_args *a, float *dfeat) {
    memset(dfeat, 0, (size_t)(a->n * a->c * a->h * a->w) * sizeof(float));
    for (int64_t k = 0; k < a->k; k++) {
        wb_roi_box b = wb_roi_align_box(rois + 5 * k, a);
        for (int64_t ch = 0; ch < a->c; ch++) {
            float *plane = dfeat + (b.batch * a->c + ch) * a->h * a->w;
            for (int ph = 0; ph < a->out_h; ph++) {
                for (int pw = 0; pw < a->out_w; pw++) {
                    float g = dy[out_index(a, k, ch, ph, pw)];
                    for (int iy = 0; iy < b.grid_h; iy++) {
                        wb_roi_lerp ly = wb_roi_lerp_at(wb_roi_sample_at(b.start_h, b.bin_h, b.grid_h, ph, iy), a->h);
                        for (int ix = 0; ix < b.grid_w; ix++) {
                            wb_roi_lerp lx =
                                wb_roi_lerp_at(wb_roi_sample_at(b.start_w, b.bin_w, b.grid_w, pw, ix), a->w);
                            if (!ly.valid || !lx.valid) continue;
                            plane[ly.lo * a->w + lx.lo] += g * (ly.w_lo * lx.w_lo) / b.count;
                            plane[ly.lo * a->w + lx.hi] += g * (ly.w_lo * lx.w_hi) / b.count;
                            plane[ly.hi * a->w + lx.lo] += g * (ly.w_hi * lx.w_lo) / b.count;
                            plane[ly.hi * a->w + lx.hi] += g * (ly.w_hi * lx.w_hi) / b.count;
                        }
                    }
                }
            }
        }
    }
}

void wb_ref_roi_pool_forward(const float *feat, const float *rois, const wb_roi_args *a, float *y,
                             int32_t *argmax) {
    for (int64_t k = 0; k < a->k; k++) {
        for (int64_t ch = 0; ch < a->c; ch++) {
            for (int ph = 0; ph < a->out_h; ph++) {
                for (int pw = 0; pw < a->out_w; pw++) {
                    wb_roi_pool_bin b = wb_roi_pool_bin_at(rois + 5 * k, a, ph, pw);
                    const float *plane = feat + (b.batch * a->c + ch) * a->h * a->w;
                    bool empty = b.h1 <= b.h0 || b.w1 <= b.w0;
                    /* torchvision: strict '>' so the first maximum wins and NaN never does. */
                    float best = empty ? 0.0f : -FLT_MAX;
                    int64_t best_at = -1;
                    for (int64_t h = b.h0; h < b.h1; h++)
                        for (int64_t w = b.w0; w < b.w1; w++)
                            if (plane[h * a->w + w] > best) {
                                best = plane[h * a->w + w];
                                best_at = h * a->w + w;
                            }
                    y[out_index(a, k, ch, ph, pw)] = best;
                    argmax[out_index(a, k, ch, ph, pw)] = (int32_t)best_at;
                }
            }
        }
    }
}

void wb_ref_roi_pool_backward(const float *dy, const float *rois, const int32_t *argmax,
                              const wb_roi_args *a, float *dfeat) {
    memset(dfeat, 0, (size_t)(a->n * a->c * a->h * a->w) * sizeof(float));
    for (int64_t k = 0; k < a->k; k++) {
        int64_t batch = (int64_t)rois[5 * k];
        for (int64_t ch = 0; ch < a->c; ch++) {
            float *plane = dfeat + (batch * a->c + ch) * a->h * a->w;
            for (int ph = 0; ph < a->out_h; ph++)
                for (int pw = 0; pw < a->out_w; pw++) {
                    int64_t o = out_index(a, k, ch, ph, pw);
                    if (argmax[o] >= 0) plane[argmax[o]] += dy[o];
                }
        }
    }
}
