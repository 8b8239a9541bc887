#include "bilinear.h"

#include <math.h>
#include <stdlib.h>

/* 11-bit weights: a byte times two weights, 255 * 2^22, stays within int32 */
#define FRAC_BITS 11
#define ONE (1 << FRAC_BITS)
/* rounding term and shift of a product of two fixed-point weights */
#define HALF2 (1 << (2 * FRAC_BITS - 1))
#define SHIFT2 (2 * FRAC_BITS)

/* Source position of output index i for a ratio src/dst (bilinear.h),
 * clamped at 0 on the left/top (the right/bottom clamp is the caller's
 * neighbour test). */
static float source_coord(int i, float ratio, wb_resize_sampling sampling) {
    if (sampling == WB_RESIZE_TF_LEGACY) return (float)i * ratio;
    return fmaxf(((float)i + 0.5f) * ratio - 0.5f, 0.0f);
}

bool wb_resize_bilinear_f32(const float *src, int sh, int sw, float *dst, int dh, int dw) {
    return wb_resize_bilinear_f32_sampled(src, sh, sw, dst, dh, dw, WB_RESIZE_HALF_PIXEL);
}

bool wb_resize_bilinear_u8(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw) {
    return wb_resize_bilinear_u8_sampled(src, sh, sw, dst, dh, dw, WB_RESIZE_HALF_PIXEL);
}

bool wb_resize_bilinear_f32_sampled(const float *src, int sh, int sw, float *dst, int dh, int dw,
                                    wb_resize_sampling sampling) {
    int *x0 = malloc((size_t)dw * sizeof *x0);
    float *fx = malloc((size_t)dw * sizeof *fx);
    if (!x0 || !fx) {
        free(x0);
        free(fx);
        return false;
    }
    float rx = (float)sw / (float)dw, ry = (float)sh / (float)dh;
    for (int x = 0; x < dw; x++) {
        float sx = source_coord(x, rx, sampling);
        x0[x] = (int)sx;
        fx[x] = sx - (float)x0[x];
    }
    for (int y = 0; y < dh; y++) {
        float sy = source_coord(y, ry, sampling);
        int y0 = (int)sy;
        int y1 = y0 + (y0 < sh - 1);
        float fy = sy - (float)y0;
        const float *r0 = src + (size_t)y0 * sw * 3, *r1 = src + (size_t)y1 * sw * 3;
        float *out = dst + (size_t)y * dw * 3;
        for (int x = 0; x < dw; x++) {
            int a = x0[x] * 3, b = (x0[x] + (x0[x] < sw - 1)) * 3;
            float wx = fx[x];
            for (int c = 0; c < 3; c++) {
                float top = r0[a + c] + wx * (r0[b + c] - r0[a + c]);
                float bot = r1[a + c] + wx * (r1[b + c] - r1[a + c]);
                out[x * 3 + c] = top + fy * (bot - top);
            }
        }
    }
    free(x0);
    free(fx);
    return true;
}

/* Horizontal interpolation for n output columns of 8-bit rows: per column
 * the offsets of the left and right neighbours and the right one's weight;
 * and the two source rows last interpolated with it (values * ONE), kept
 * while consecutive output rows need them. */
typedef struct row_pair {
    int n;
    int *xa, *xb, *wx;
    int32_t *rows;     /* the allocation holding top and bot */
    int32_t *top, *bot;
    int top_row, bot_row;
} row_pair;

static bool row_pair_init(row_pair *p, int n) {
    p->n = n;
    p->xa = malloc((size_t)(n > 0 ? n : 1) * 3 * sizeof(int));
    p->rows = malloc((size_t)(n > 0 ? n : 1) * 3 * 2 * sizeof(int32_t));
    if (!p->xa || !p->rows) {
        free(p->xa);
        free(p->rows);
        return false;
    }
    p->xb = p->xa + n, p->wx = p->xa + 2 * n;
    p->top = p->rows, p->bot = p->rows + (size_t)n * 3;
    p->top_row = p->bot_row = -1;
    return true;
}

static void row_pair_free(row_pair *p) {
    free(p->xa);
    free(p->rows);
}

static void interpolate_row(const row_pair *p, const uint8_t *row, int32_t *out) {
    for (int x = 0; x < p->n; x++) {
        const uint8_t *a = row + p->xa[x], *b = row + p->xb[x];
        int32_t wb = p->wx[x], wa = ONE - wb;
        out[3 * x] = a[0] * wa + b[0] * wb;
        out[3 * x + 1] = a[1] * wa + b[1] * wb;
        out[3 * x + 2] = a[2] * wa + b[2] * wb;
    }
}

/* Makes top source row y0 and bot row y1 (rows of `stride` bytes). */
static void row_pair_load(row_pair *p, const uint8_t *src, size_t stride, int y0, int y1) {
    if (p->top_row != y0) {
        if (p->bot_row == y0) { /* moving down by one source row: the bottom one becomes the top */
            int32_t *t = p->top;
            p->top = p->bot, p->bot = t;
            p->top_row = p->bot_row, p->bot_row = -1;
        } else {
            interpolate_row(p, src + (size_t)y0 * stride, p->top);
            p->top_row = y0;
        }
    }
    if (p->bot_row != y1) {
        interpolate_row(p, src + (size_t)y1 * stride, p->bot);
        p->bot_row = y1;
    }
}

/* The n output pixels between top and bot, bot weighing wy. */
static void row_pair_blend(const row_pair *p, int32_t wy, uint8_t *out) {
    const int32_t *top = p->top, *bot = p->bot;
    for (int i = 0; i < 3 * p->n; i++) out[i] = (uint8_t)((top[i] * (ONE - wy) + bot[i] * wy + HALF2) >> SHIFT2);
}

/* Separable: each source row is interpolated horizontally once, then pairs
 * of rows vertically. */
bool wb_resize_bilinear_u8_sampled(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw,
                                   wb_resize_sampling sampling) {
    row_pair p;
    if (!row_pair_init(&p, dw)) return false;
    float rx = (float)sw / (float)dw, ry = (float)sh / (float)dh;
    for (int x = 0; x < dw; x++) {
        float sx = source_coord(x, rx, sampling);
        int x0 = (int)sx;
        p.xa[x] = 3 * x0;
        p.xb[x] = 3 * (x0 + (x0 < sw - 1));
        p.wx[x] = (int)lroundf((sx - (float)x0) * ONE);
    }
    for (int y = 0; y < dh; y++) {
        float sy = source_coord(y, ry, sampling);
        int y0 = (int)sy, y1 = y0 + (y0 < sh - 1);
        row_pair_load(&p, src, (size_t)sw * 3, y0, y1);
        row_pair_blend(&p, (int32_t)lroundf((sy - (float)y0) * ONE), dst + (size_t)y * dw * 3);
    }
    row_pair_free(&p);
    return true;
}

/* ---- affine warps ---- */

/* The inverse of the forward matrix (output -> input). */
static void invert(const double *m, double *inv) {
    double det = m[0] * m[4] - m[1] * m[3];
    inv[0] = m[4] / det, inv[1] = -m[1] / det, inv[3] = -m[3] / det, inv[4] = m[0] / det;
    inv[2] = -(inv[0] * m[2] + inv[1] * m[5]), inv[5] = -(inv[3] * m[2] + inv[4] * m[5]);
}

/* The source position (pixel-index coordinates: source pixel k's centre is
 * at k) of output row y's first pixel centre. Along a row the position
 * steps by (inv[0], inv[3]). */
static void row_start(const double *inv, int y, double *bx, double *by) {
    double py = y + 0.5;
    *bx = inv[0] * 0.5 + inv[1] * py + inv[2] - 0.5;
    *by = inv[3] * 0.5 + inv[4] * py + inv[5] - 0.5;
}

/* Where a sample at (sx, sy) falls: all four neighbours inside, all outside
 * (the border value), or straddling the edge. */
typedef enum { INSIDE, OUTSIDE, EDGE } placement;

static placement place(float sx, float sy, int sw, int sh) {
    if (sx >= 0.0f && sy >= 0.0f && sx < (float)(sw - 1) && sy < (float)(sh - 1)) return INSIDE;
    if (sx <= -1.0f || sy <= -1.0f || sx >= (float)sw || sy >= (float)sh) return OUTSIDE;
    return EDGE;
}

/* The four neighbours of (sx, sy) for the edge path: where each is, and
 * whether it is inside the image. */
static void neighbours(int sw, int sh, float sx, float sy, size_t index[4], bool inside[4], float *fx, float *fy) {
    int x0 = (int)floorf(sx), y0 = (int)floorf(sy);
    *fx = sx - (float)x0, *fy = sy - (float)y0;
    for (int k = 0; k < 4; k++) {
        int xx = x0 + (k & 1), yy = y0 + (k >> 1);
        inside[k] = xx >= 0 && yy >= 0 && xx < sw && yy < sh;
        index[k] = inside[k] ? ((size_t)yy * sw + xx) * 3 : 0;
    }
}

static float lerp2(const float v[4], float fx, float fy) {
    float top = v[0] + fx * (v[1] - v[0]), bot = v[2] + fx * (v[3] - v[2]);
    return top + fy * (bot - top);
}

void wb_warp_affine_f32(const float *src, int sh, int sw, const double m[6], float border, float *dst, int oh,
                        int ow) {
    double inv[6];
    invert(m, inv);
    const size_t stride = (size_t)sw * 3;
    for (int y = 0; y < oh; y++) {
        double bx, by;
        row_start(inv, y, &bx, &by);
        float *out = dst + (size_t)y * ow * 3;
        for (int x = 0; x < ow; x++, out += 3) {
            float sx = (float)(bx + inv[0] * x), sy = (float)(by + inv[3] * x);
            placement p = place(sx, sy, sw, sh);
            if (p == INSIDE) {
                int x0 = (int)sx, y0 = (int)sy;
                float fx = sx - (float)x0, fy = sy - (float)y0;
                const float *a = src + (size_t)y0 * stride + (size_t)x0 * 3, *b = a + stride;
                for (int c = 0; c < 3; c++) {
                    float v[4] = {a[c], a[c + 3], b[c], b[c + 3]};
                    out[c] = lerp2(v, fx, fy);
                }
            } else if (p == OUTSIDE) {
                out[0] = out[1] = out[2] = border;
            } else {
                size_t at[4];
                bool in[4];
                float fx, fy;
                neighbours(sw, sh, sx, sy, at, in, &fx, &fy);
                for (int c = 0; c < 3; c++) {
                    float v[4];
                    for (int k = 0; k < 4; k++) v[k] = in[k] ? src[at[k] + c] : border;
                    out[c] = lerp2(v, fx, fy);
                }
            }
        }
    }
}

/* ---- 8-bit warp: 32.32 fixed-point source positions stepping along each
 * row (the step's rounding, 2^-33 px, stays far below a level over any
 * row); the inner span of a row, whose 2x2 neighbourhoods lie inside the
 * image, runs without tests, the pixels around it take the edge path. ---- */

#define POS_BITS 32

/* The 11-bit weight of the right / lower neighbour, rounded: it may be ONE,
 * which is fine where that neighbour exists. */
static int32_t weight(int64_t pos) {
    const int64_t frac = pos & (((int64_t)1 << POS_BITS) - 1);
    return (int32_t)((frac + ((int64_t)1 << (POS_BITS - FRAC_BITS - 1))) >> (POS_BITS - FRAC_BITS));
}

/* Whether start + x * step lies in [0, limit). */
static bool within(int64_t start, int64_t step, int64_t limit, int x) {
    int64_t v = start + (int64_t)x * step;
    return v >= 0 && v < limit;
}

/* [*lo, *hi): the x in [0, n) for which start + x * step lies in [0, limit)
 * (contiguous: the position is linear in x). Estimated in double, then made
 * exact with the integer test. */
static void axis_span(int64_t start, int64_t step, int64_t limit, int n, int *lo, int *hi) {
    double l = 0, h = n;
    if (step != 0) {
        double at_zero = -(double)start / (double)step, at_limit = (double)(limit - start) / (double)step;
        l = step > 0 ? at_zero : at_limit, h = step > 0 ? at_limit : at_zero;
    } else if (start < 0 || start >= limit) {
        h = 0;
    }
    int a = l <= 0 ? 0 : l >= n ? n : (int)l, b = h <= 0 ? 0 : h >= n ? n : (int)ceil(h);
    while (a < b && !within(start, step, limit, a)) a++;
    while (a > 0 && within(start, step, limit, a - 1)) a--;
    while (b > a && !within(start, step, limit, b - 1)) b--;
    while (b < n && within(start, step, limit, b)) b++;
    *lo = a, *hi = b > a ? b : a;
}

/* One output pixel off the inner span: the border colour when all four
 * neighbours are outside, else a float blend of the neighbours that exist. */
static void edge_pixel_u8(const uint8_t *src, int sh, int sw, float sx, float sy, uint8_t border, uint8_t *out) {
    if (place(sx, sy, sw, sh) == OUTSIDE) {
        out[0] = out[1] = out[2] = border;
        return;
    }
    size_t at[4];
    bool in[4];
    float fx, fy;
    neighbours(sw, sh, sx, sy, at, in, &fx, &fy);
    for (int c = 0; c < 3; c++) {
        float v[4];
        for (int k = 0; k < 4; k++) v[k] = in[k] ? (float)src[at[k] + c] : (float)border;
        out[c] = (uint8_t)(lerp2(v, fx, fy) + 0.5f);
    }
}

/* The pixels of an output row outside its inner span [lo, hi), positions
 * start + x * step in fixed point. */
static void edge_pixels_u8(const uint8_t *src, int sh, int sw, int64_t x0, int64_t step_x, int64_t y0,
                           int64_t step_y, uint8_t border, int lo, int hi, int ow, uint8_t *out) {
    const double unit = (double)((int64_t)1 << POS_BITS);
    for (int x = 0; x < ow; x++) {
        if (x == lo) x = hi;
        if (x >= ow) break;
        float sx = (float)((double)(x0 + x * step_x) / unit), sy = (float)((double)(y0 + x * step_y) / unit);
        edge_pixel_u8(src, sh, sw, sx, sy, border, out + 3 * x);
    }
}

/* Any invertible matrix: position and weights per pixel. */
static void warp_general_u8(const uint8_t *src, int sh, int sw, const double *inv, uint8_t border, uint8_t *dst,
                            int oh, int ow) {
    const double unit = (double)((int64_t)1 << POS_BITS);
    const int64_t step_x = llround(inv[0] * unit), step_y = llround(inv[3] * unit);
    /* a 2x2 neighbourhood is inside when the position is in [0, size - 1) */
    const int64_t limit_x = (int64_t)(sw - 1) << POS_BITS, limit_y = (int64_t)(sh - 1) << POS_BITS;
    const size_t stride = (size_t)sw * 3;
    for (int y = 0; y < oh; y++) {
        double bx, by;
        row_start(inv, y, &bx, &by);
        const int64_t x0 = llround(bx * unit), y0 = llround(by * unit);
        int lo_x, hi_x, lo_y, hi_y;
        axis_span(x0, step_x, limit_x, ow, &lo_x, &hi_x);
        axis_span(y0, step_y, limit_y, ow, &lo_y, &hi_y);
        int lo = lo_x > lo_y ? lo_x : lo_y, hi = hi_x < hi_y ? hi_x : hi_y;
        if (hi < lo) hi = lo;
        uint8_t *out = dst + (size_t)y * ow * 3;
        edge_pixels_u8(src, sh, sw, x0, step_x, y0, step_y, border, lo, hi, ow, out);
        int64_t px = x0 + lo * step_x, py = y0 + lo * step_y;
        for (int x = lo; x < hi; x++, px += step_x, py += step_y) {
            const int32_t wx = weight(px), wy = weight(py);
            const uint8_t *a = src + (size_t)(py >> POS_BITS) * stride + (size_t)(px >> POS_BITS) * 3;
            const uint8_t *b = a + stride;
            uint8_t *o = out + 3 * x;
            for (int c = 0; c < 3; c++) {
                int32_t top = a[c] * (ONE - wx) + a[c + 3] * wx, bot = b[c] * (ONE - wx) + b[c + 3] * wx;
                o[c] = (uint8_t)((top * (ONE - wy) + bot * wy + HALF2) >> SHIFT2);
            }
        }
    }
}

/* No rotation or shear (YOLOv5's default): every row samples the same
 * columns and each output row lies along one source row, so the warp is a
 * separable resize over the inner span, with the same fixed-point positions
 * and arithmetic as the general path (the same bytes, faster). */
static bool warp_axis_aligned_u8(const uint8_t *src, int sh, int sw, const double *inv, uint8_t border,
                                 uint8_t *dst, int oh, int ow) {
    const double unit = (double)((int64_t)1 << POS_BITS);
    const int64_t step_x = llround(inv[0] * unit);
    const int64_t limit_x = (int64_t)(sw - 1) << POS_BITS, limit_y = (int64_t)(sh - 1) << POS_BITS;
    double bx, by;
    row_start(inv, 0, &bx, &by);
    const int64_t x0 = llround(bx * unit);
    int lo, hi;
    axis_span(x0, step_x, limit_x, ow, &lo, &hi);
    row_pair p;
    if (!row_pair_init(&p, hi - lo)) return false;
    for (int x = lo; x < hi; x++) {
        int64_t px = x0 + x * step_x;
        p.xa[x - lo] = 3 * (int)(px >> POS_BITS);
        p.xb[x - lo] = p.xa[x - lo] + 3;
        p.wx[x - lo] = weight(px);
    }
    for (int y = 0; y < oh; y++) {
        row_start(inv, y, &bx, &by);
        const int64_t y0 = llround(by * unit);
        uint8_t *out = dst + (size_t)y * ow * 3;
        if (y0 < 0 || y0 >= limit_y) { /* no inner span on this row */
            edge_pixels_u8(src, sh, sw, x0, step_x, y0, 0, border, ow, ow, ow, out);
            continue;
        }
        edge_pixels_u8(src, sh, sw, x0, step_x, y0, 0, border, lo, hi, ow, out);
        int row = (int)(y0 >> POS_BITS);
        row_pair_load(&p, src, (size_t)sw * 3, row, row + 1);
        row_pair_blend(&p, weight(y0), out + 3 * lo);
    }
    row_pair_free(&p);
    return true;
}

bool wb_warp_affine_u8(const uint8_t *src, int sh, int sw, const double m[6], uint8_t border, uint8_t *dst,
                       int oh, int ow) {
    double inv[6];
    invert(m, inv);
    if (m[1] == 0.0 && m[3] == 0.0) return warp_axis_aligned_u8(src, sh, sw, inv, border, dst, oh, ow);
    warp_general_u8(src, sh, sw, inv, border, dst, oh, ow);
    return true;
}

/* ---- perspective warps: a division per pixel, so no fixed-point stepping;
 * every pixel takes the float path of the edge pixels. ---- */

/* The inverse of a 3x3 matrix as its adjugate divided by the determinant,
 * whose sign tells which side of the horizon a source point lies on: a
 * source point maps forward with z > 0 exactly when its inverse image has
 * a positive third coordinate. */
static void invert3(const double *m, double *inv) {
    double a[9] = {m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
                   m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
                   m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3]};
    double det = m[0] * a[0] + m[1] * a[3] + m[2] * a[6];
    for (int i = 0; i < 9; i++) inv[i] = a[i] / det;
}

/* The source position (pixel-index coordinates) of output pixel (x, y)'s
 * centre; false when it comes from behind the horizon. */
static bool perspective_source(const double *inv, int x, int y, float *sx, float *sy) {
    double px = x + 0.5, py = y + 0.5;
    double z = inv[6] * px + inv[7] * py + inv[8];
    if (!(z > 0)) return false;
    *sx = (float)((inv[0] * px + inv[1] * py + inv[2]) / z - 0.5);
    *sy = (float)((inv[3] * px + inv[4] * py + inv[5]) / z - 0.5);
    return true;
}

void wb_warp_perspective_f32(const float *src, int sh, int sw, const double m[9], float border, float *dst, int oh,
                             int ow) {
    double inv[9];
    invert3(m, inv);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            float *out = dst + ((size_t)y * ow + x) * 3, sx, sy;
            if (!perspective_source(inv, x, y, &sx, &sy) || place(sx, sy, sw, sh) == OUTSIDE) {
                out[0] = out[1] = out[2] = border;
                continue;
            }
            size_t at[4];
            bool in[4];
            float fx, fy;
            neighbours(sw, sh, sx, sy, at, in, &fx, &fy);
            for (int c = 0; c < 3; c++) {
                float v[4];
                for (int k = 0; k < 4; k++) v[k] = in[k] ? src[at[k] + c] : border;
                out[c] = lerp2(v, fx, fy);
            }
        }
}

void wb_warp_perspective_u8(const uint8_t *src, int sh, int sw, const double m[9], uint8_t border, uint8_t *dst,
                            int oh, int ow) {
    double inv[9];
    invert3(m, inv);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            uint8_t *out = dst + ((size_t)y * ow + x) * 3;
            float sx, sy;
            if (perspective_source(inv, x, y, &sx, &sy)) edge_pixel_u8(src, sh, sw, sx, sy, border, out);
            else out[0] = out[1] = out[2] = border;
        }
}
