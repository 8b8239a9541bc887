/* numpy broadcasting of two or three operands. */
#include "broadcast.h"

#include <stdio.h>
#include <string.h>

#define MAX_OPERANDS 3

typedef struct geometry {
    int ndim;
    int64_t shape[WB_MAX_DIMS];
    int64_t stride[MAX_OPERANDS][WB_MAX_DIMS];
} geometry;

static void shapes_message(wb_context *c, const char *op, const wb_tensor *const *t, int n, int d,
                           int64_t x, int64_t y) {
    char list[3 * 96 + 16] = "", s[96];
    for (int i = 0; i < n; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i == 0 ? "" : (i == n - 1 ? " and " : ", "),
                 wb_shape_str(t[i], s, sizeof s));
    }
    wb_ctx_fail(c, WB_ERR_INVALID, "%s: shapes %s do not broadcast (dim %d of the result: %lld vs %lld)", op,
                list, d, (long long)x, (long long)y);
}

static bool broadcast(wb_context *c, const char *op, const wb_tensor *const *t, int n, geometry *g,
                      int *out_ndim, int64_t *out_shape) {
    int nd = 0;
    for (int k = 0; k < n; k++) nd = t[k]->ndim > nd ? t[k]->ndim : nd;
    int64_t st[MAX_OPERANDS][WB_MAX_DIMS], contiguous[MAX_OPERANDS];
    for (int k = 0; k < n; k++) contiguous[k] = 1;
    /* Right-aligned, innermost first, so contiguous strides build up as we go. */
    for (int d = nd - 1; d >= 0; d--) {
        int64_t size = 1, dims[MAX_OPERANDS];
        for (int k = 0; k < n; k++) {
            int i = d - (nd - t[k]->ndim);
            dims[k] = i >= 0 ? t[k]->shape[i] : 1;
            if (dims[k] == 1) continue;
            if (size != 1 && dims[k] != size) {
                shapes_message(c, op, t, n, d, size, dims[k]);
                return false;
            }
            size = dims[k];
        }
        out_shape[d] = size;
        for (int k = 0; k < n; k++) {
            st[k][d] = dims[k] == 1 ? 0 : contiguous[k];
            contiguous[k] *= dims[k];
        }
    }
    *out_ndim = nd;
    /* Drop size-1 dims and merge a dim into its inner neighbour when every
     * operand steps through them as one (equal zero strides included). */
    int m = 0;
    for (int d = nd - 1; d >= 0; d--) {
        if (out_shape[d] == 1) continue;
        bool merge = m > 0;
        for (int k = 0; k < n && merge; k++) merge = st[k][d] == g->stride[k][m - 1] * g->shape[m - 1];
        if (merge) {
            g->shape[m - 1] *= out_shape[d];
            continue;
        }
        g->shape[m] = out_shape[d];
        for (int k = 0; k < n; k++) g->stride[k][m] = st[k][d];
        m++;
    }
    if (m == 0) {
        g->shape[m] = 1;
        for (int k = 0; k < n; k++) g->stride[k][m] = 0;
        m = 1;
    }
    /* Built innermost first; kernels want outermost first. */
    g->ndim = m;
    for (int i = 0, j = m - 1; i < j; i++, j--) {
        int64_t tmp = g->shape[i];
        g->shape[i] = g->shape[j];
        g->shape[j] = tmp;
        for (int k = 0; k < n; k++) {
            tmp = g->stride[k][i];
            g->stride[k][i] = g->stride[k][j];
            g->stride[k][j] = tmp;
        }
    }
    return true;
}

bool wb_broadcast2(wb_context *c, const char *op, const wb_tensor *a, const wb_tensor *b, wb_bcast *g,
                   int *out_ndim, int64_t *out_shape) {
    const wb_tensor *t[2] = {a, b};
    geometry geo;
    if (!broadcast(c, op, t, 2, &geo, out_ndim, out_shape)) return false;
    g->ndim = geo.ndim;
    memcpy(g->shape, geo.shape, sizeof g->shape);
    memcpy(g->a_stride, geo.stride[0], sizeof g->a_stride);
    memcpy(g->b_stride, geo.stride[1], sizeof g->b_stride);
    return true;
}

bool wb_broadcast3(wb_context *c, const char *op, const wb_tensor *cond, const wb_tensor *a,
                   const wb_tensor *b, wb_bcast3 *g, int *out_ndim, int64_t *out_shape) {
    const wb_tensor *t[3] = {cond, a, b};
    geometry geo;
    if (!broadcast(c, op, t, 3, &geo, out_ndim, out_shape)) return false;
    g->ndim = geo.ndim;
    memcpy(g->shape, geo.shape, sizeof g->shape);
    memcpy(g->stride, geo.stride, sizeof g->stride);
    return true;
}
