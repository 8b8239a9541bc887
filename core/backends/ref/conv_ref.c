/* Reference conv2d: direct loops straight from the definition
 *   y[n,o,i,j] = b[o] + sum_{c in group(o), p, q} x[n,c, i*s - pad + p*d, j*s - pad + q*d] * w[o,c',p,q]
 * Gathers accumulate in double so the reference is the more accurate side. */
#include <string.h>
#include "../families.h"
#include "../kernels_conv.h"

/* Input row/column read by output index o at kernel tap k; may be out of range (padding). */
static inline int64_t in_index(int64_t o, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
    return o * stride - pad + k * dil;
}

static wb_status forward_ref(const wb_conv_shape *s, const float *x, const float *w, const float *b,
                             float *y) {
    int64_t cin_g = s->c_in / s->groups, cout_g = s->c_out / s->groups;
    for (int64_t n = 0; n < s->n; n++)
        for (int64_t o = 0; o < s->c_out; o++) {
            int64_t c0 = (o / cout_g) * cin_g;
            for (int64_t i = 0; i < s->h_out; i++)
                for (int64_t j = 0; j < s->w_out; j++) {
                    double acc = b ? b[o] : 0.0;
                    for (int64_t c = 0; c < cin_g; c++)
                        for (int64_t p = 0; p < s->k_h; p++) {
                            int64_t ih = in_index(i, p, s->stride_h, s->pad_h, s->dil_h);
                            if (ih < 0 || ih >= s->h_in) continue;
                            for (int64_t q = 0; q < s->k_w; q++) {
                                int64_t iw = in_index(j, q, s->stride_w, s->pad_w, s->dil_w);
                                if (iw < 0 || iw >= s->w_in) continue;
                                acc += (double)x[((n * s->c_in + c0 + c) * s->h_in + ih) * s->w_in + iw] *
                                       w[((o * cin_g + c) * s->k_h + p) * s->k_w + q];
                            }
                        }
                    y[((n * s->c_out + o) * s->h_out + i) * s->w_out + j] = (float)acc;
                }
        }
    return WB_OK;
}

/* Scatter form: every output gradient flows back to the inputs it read. */
static wb_status backward_data_ref(const wb_conv_shape *s, const float *dy, const float *w, float *dx) {
    int64_t cin_g = s->c_in / s->groups, cout_g = s->c_out / s->groups;
    memset(dx, 0, (size_t)(s->n * s->c_in * s->h_in * s->w_in) * sizeof *dx);
    for (int64_t n = 0; n < s->n; n++)
        for (int64_t o = 0; o < s->c_out; o++) {
            int64_t c0 = (o / cout_g) * cin_g;
            for (int64_t i = 0; i < s->h_out; i++)
                for (int64_t j = 0; j < s->w_out; j++) {
                    float g = dy[((n * s->c_out + o) * s->h_out + i) * s->w_out + j];
                    for (int64_t c = 0; c < cin_g; c++)
                        for (int64_t p = 0; p < s->k_h; p++) {
                            int64_t ih = in_index(i, p, s->stride_h, s->pad_h, s->dil_h);
                            if (ih < 0 || ih >= s->h_in) continue;
                            for (int64_t q = 0; q < s->k_w; q++) {
                                int64_t iw = in_index(j, q, s->stride_w, s->pad_w, s->dil_w);
                                if (iw < 0 || iw >= s->w_in) continue;
                                dx[((n * s->c_in + c0 + c) * s->h_in + ih) * s->w_in + iw] +=
                                    g * w[((o * cin_g + c) * s->k_h + p) * s->k_w + q];
                            }
                        }
                }
        }
    return WB_OK;
}

static wb_status backward_weights_ref(const wb_conv_shape *s, const float *x, const float *dy, float *dw,
                                      float *db) {
    int64_t cin_g = s->c_in / s->groups, cout_g = s->c_out / s->groups;
    for (int64_t o = 0; o < s->c_out; o++) {
        int64_t c0 = (o / cout_g) * cin_g;
        for (int64_t c = 0; c < cin_g; c++)
            for (int64_t p = 0; p < s->k_h; p++)
                for (int64_t q = 0; q < s->k_w; q++) {
                    double acc = 0.0;
                    for (int64_t n = 0; n < s->n; n++)
                        for (int64_t i = 0; i < s->h_out; i++) {
                            int64_t ih = in_index(i, p, s->stride_h, s->pad_h, s->dil_h);
                            if (ih < 0 || ih >= s->h_in) continue;
                            for (int64_t j = 0; j < s->w_out; j++) {
                                int64_t iw = in_index(j, q, s->stride_w, s->pad_w, s->dil_w);
                                if (iw < 0 || iw >= s->w_in) continue;
                                acc += (double)dy[((n * s->c_out + o) * s->h_out + i) * s->w_out + j] *
                                       x[((n * s->c_in + c0 + c) * s->h_in + ih) * s->w_in + iw];
                            }
                        }
                    dw[((o * cin_g + c) * s->k_h + p) * s->k_w + q] = (float)acc;
                }
        if (db) {
            double acc = 0.0;
            for (int64_t n = 0; n < s->n; n++)
                for (int64_t k = 0; k < s->h_out * s->w_out; k++)
                    acc += dy[(n * s->c_out + o) * s->h_out * s->w_out + k];
            db[o] = (float)acc;
        }
    }
    return WB_OK;
}

static const wb_conv_kernels g_ref_conv = {forward_ref, backward_data_ref, backward_weights_ref, NULL, NULL, NULL};

const wb_conv_kernels *wb_ref_conv_kernels(void) { return &g_ref_conv; }
