/* conv2d kernels: forward, backward data, backward weights (+ bias). Tensors
 * are contiguous NCHW (x, y, dx, dy) and OIHW (w, dw: [c_out, c_in/groups,
 * k_h, k_w]); semantics are torch.nn.functional.conv2d's. Kernels return
 * WB_OK or why they failed (WB_ERR_NOMEM, WB_ERR_UNSUPPORTED, ...). */
#ifndef WB_CORE_KERNELS_CONV_H
#define WB_CORE_KERNELS_CONV_H

#include <stdbool.h>
#include <stdint.h>
#include <workbench/types.h>
#include "kernels_pointwise.h"

/* All fields int64_t so the struct has no padding and can be a cache key. */
typedef struct wb_conv_shape {
    int64_t n, c_in, h_in, w_in;
    int64_t c_out, h_out, w_out;
    int64_t k_h, k_w;
    int64_t stride_h, stride_w;
    int64_t pad_h, pad_w;
    int64_t dil_h, dil_w;
    int64_t groups;
    int64_t inference; /* 1: no backward follows, the backend may trade scratch memory for speed */
} wb_conv_shape;

struct wb_conv_kernels {
    /* y = conv(x, w) + b; b may be NULL. */
    wb_status (*forward)(const wb_conv_shape *s, const float *x, const float *w, const float *b, float *y);
    /* dx = gradient of conv with respect to x, given dy. */
    wb_status (*backward_data)(const wb_conv_shape *s, const float *dy, const float *w, float *dx);
    /* dw (and db unless NULL) = gradients with respect to w and b, given x and dy. */
    wb_status (*backward_weights)(const wb_conv_shape *s, const float *x, const float *dy, float *dw,
                                  float *db);
    /* Optional (NULL: the core runs forward and then the activation): y =
     * act(conv(x, w) + b) in one pass, for forwards no backward follows.
     * WB_ERR_UNSUPPORTED for an act the backend does not fuse. */
    wb_status (*forward_act)(const wb_conv_shape *s, const float *x, const float *w, const float *b,
                             wb_act_kind act, float *y);
    /* Optional (NULL: the core adds a second gradient from a temporary): dx
     * += gradient of conv with respect to x, given dy. WB_ERR_UNSUPPORTED for
     * a shape the backend cannot add into in place. */
    wb_status (*backward_data_add)(const wb_conv_shape *s, const float *dy, const float *w, float *dx);
    /* Optional, read only where the backend has layout kernels: a forward
     * no backward follows, with x in the channel-blocked layout of
     * kernels_layout.h where x_blocked says so; it writes y = act(conv(x, w)
     * + b + residual) (residual: NULL, or the output's shape in the layout
     * residual_blocked says; act: a wb_act_kind, or -1 for none) in the
     * layout it chooses and says which in *y_blocked. WB_ERR_UNSUPPORTED:
     * run the ops on plain tensors instead (with a residual, this call
     * without it may still serve). */
    wb_status (*forward_blocked)(const wb_conv_shape *s, const float *x, bool x_blocked, const float *w,
                                 const float *b, const float *residual, bool residual_blocked, int act, float *y,
                                 bool *y_blocked);
};

#endif
