/* The predictions of the targets' cells, pi[b, a, gj, gi] in YOLOv5's
 * loss, as a custom op: row r of the output is the 5+K attributes of anchor
 * a at cell (gj, gi) of image b; the backward adds each row's gradient back
 * into its place (a cell predicting several targets gets their sum). */
#include <stdlib.h>
#include <string.h>
#include "yolov5_head.h"

typedef struct gather_state {
    int64_t n, no, plane; /* rows, attributes per row, H * W (the stride between attributes) */
    int64_t first[];      /* offset of each row's attribute 0 in the map */
} gather_state;

static wb_status gather_backward(wb_ctx *ctx, void *state, wb_tensor *const *in, int n_in, wb_tensor *const *saved,
                                 int n_saved, wb_tensor *const *grad_out, int n_out, wb_tensor **grad_in) {
    (void)n_in, (void)saved, (void)n_saved, (void)n_out;
    const gather_state *s = state;
    wb_tensor_info info = wb_info(ctx, in[0]);
    grad_in[0] = wb_tensor_new(ctx, info.ndim, info.shape);
    const float *g = wb_map(ctx, grad_out[0]);
    float *gm = wb_map(ctx, grad_in[0]);
    if (!g || !gm) return wb_ok(ctx);
    for (int64_t r = 0; r < s->n; r++)
        for (int64_t k = 0; k < s->no; k++) gm[s->first[r] + k * s->plane] += g[r * s->no + k];
    return wb_unmap(ctx, grad_in[0]);
}

wb_tensor *yolov5_gather(const yolov5_head *h, wb_ctx *ctx, wb_tensor *map, const yolov5_target *t, int n) {
    wb_tensor_info info = wb_info(ctx, map);
    int64_t H = info.shape[2], W = info.shape[3], shape[2] = {n, h->no};
    size_t size = sizeof(gather_state) + (size_t)n * sizeof(int64_t);
    gather_state *s = malloc(size);
    if (!s) {
        wb_error(ctx, WB_ERR_NOMEM, "yolov5_head: out of memory gathering %d targets", n);
        return NULL;
    }
    *s = (gather_state){.n = n, .no = h->no, .plane = H * W};
    for (int r = 0; r < n; r++)
        s->first[r] = ((int64_t)t[r].b * info.shape[1] + (int64_t)t[r].a * h->no) * H * W + t[r].gj * W + t[r].gi;
    wb_tensor *rows = wb_tensor_new(ctx, 2, shape);
    const float *m = wb_map(ctx, map);
    float *out = wb_map(ctx, rows);
    if (out && m) {
        for (int r = 0; r < n; r++)
            for (int64_t k = 0; k < h->no; k++) out[r * h->no + k] = m[s->first[r] + k * s->plane];
        wb_unmap(ctx, rows);
        wb_custom_op op = {.struct_size = sizeof op, .name = "yolov5_head.gather", .inputs = &map, .n_in = 1,
                           .outputs = &rows, .n_out = 1, .backward = gather_backward, .state = s,
                           .state_size = size};
        wb_record_custom_op(ctx, &op);
    }
    free(s);
    return wb_ok(ctx) == WB_OK ? rows : NULL;
}
