/* The input window of one pooling output, with torch's rules: the window is
 * first clipped to input + padding (that size is the count_include_pad
 * divisor), then to the input itself. Shared by the ref, CPU and CUDA kernels
 * (WB_HD) so all agree on the semantics. */
#ifndef WB_CORE_POOL_WINDOW_H
#define WB_CORE_POOL_WINDOW_H

#include "hd.h"
#include "kernels_dense.h"

typedef struct wb_pool_window {
    int64_t y0, y1, x0, x1; /* [y0, y1) x [x0, x1) inside the input */
    int64_t divisor;        /* average pool divisor */
} wb_pool_window;

WB_HD static inline wb_pool_window wb_pool_window_at(const wb_pool_args *a, int64_t oy, int64_t ox) {
    int64_t y0 = oy * a->sh - a->ph, x0 = ox * a->sw - a->pw;
    int64_t y1 = y0 + a->kh, x1 = x0 + a->kw;
    if (y1 > a->ih + a->ph) y1 = a->ih + a->ph;
    if (x1 > a->iw + a->pw) x1 = a->iw + a->pw;
    int64_t padded = (y1 - y0) * (x1 - x0);
    wb_pool_window w = {y0 < 0 ? 0 : y0, y1 > a->ih ? a->ih : y1,
                        x0 < 0 ? 0 : x0, x1 > a->iw ? a->iw : x1, 0};
    w.divisor = a->count_include_pad ? padded : (w.y1 - w.y0) * (w.x1 - w.x0);
    return w;
}

#endif
