/* clahe: albumentations' CLAHE: with probability p, the image goes to
 * L*a*b*, its lightness gets OpenCV's CLAHE (clip limit drawn uniformly
 * from clip_limit, tile_grid_size tiles) and it comes back to RGB, colours
 * kept. Boxes stay. */
#include <stdlib.h>
#include "../common/albu.h"
#include "clahe_plane.h"
#include "lab.h"

typedef struct clahe {
    double p, clip_lo, clip_hi;
    int tiles_x, tiles_y;
    lab_tables lab; /* built once in create: read-only while loader threads apply */
} clahe;

static const wb_param_schema clahe_params[] = {
    WB_P_FLOAT("p", "0.5", 0.0, 1.0, "probability of equalising a sample"),
    WB_P_FLOAT_LIST("clip_limit", "[1.0, 4.0]", 0.0, 1000.0,
                    "[min, max] contrast limit, drawn uniformly per sample (0: no clipping)"),
    WB_P_INT_LIST("tile_grid_size", "[8, 8]", 1, 256, "[columns, rows] of tiles"),
    WB_PARAM_END,
};

static wb_status clahe_create(wb_ctx *ctx, const wb_params *params, void **instance) {
    const wb_host_api *h = ctx->host;
    if (h->param_list_len(params, "clip_limit") != 2 || h->param_list_len(params, "tile_grid_size") != 2)
        return wb_error(ctx, WB_ERR_INVALID, "clip_limit and tile_grid_size take two values each");
    clahe c = {h->param_float(params, "p"), h->param_float_at(params, "clip_limit", 0),
               h->param_float_at(params, "clip_limit", 1), (int)h->param_int_at(params, "tile_grid_size", 0),
               (int)h->param_int_at(params, "tile_grid_size", 1), {{0}, {0}, {0}}};
    if (c.clip_lo > c.clip_hi)
        return wb_error(ctx, WB_ERR_INVALID, "clip_limit [%g, %g]: min > max", c.clip_lo, c.clip_hi);
    clahe *out = malloc(sizeof *out);
    if (!out) return wb_error(ctx, WB_ERR_NOMEM, "clahe: out of memory");
    *out = c;
    lab_tables_init(&out->lab);
    *instance = out;
    return WB_OK;
}

static wb_status clahe_apply(void *instance, wb_ctx *ctx, wb_transform_sample *s, wb_rng *rng) {
    const clahe *c = instance;
    if (!albu_wanted(rng, c->p)) return WB_OK;
    double clip = c->clip_lo + (c->clip_hi - c->clip_lo) * wb_rng_uniform01(rng);
    size_t n = (size_t)s->height * s->width;
    uint8_t *px = s->pixels;
    for (size_t i = 0; i < n; i++) lab_from_rgb(&c->lab, px + 3 * i, px + 3 * i);
    if (clahe_plane(px, s->height, s->width, 3, clip, c->tiles_x, c->tiles_y) != 0)
        return wb_error(ctx, WB_ERR_NOMEM, "clahe: out of memory for %d x %d tiles", c->tiles_x, c->tiles_y);
    for (size_t i = 0; i < n; i++) rgb_from_lab(px + 3 * i, px + 3 * i);
    return WB_OK;
}

static void clahe_destroy(void *instance) { free(instance); }

static const wb_transform_vtable clahe_vt = {sizeof clahe_vt, clahe_create, clahe_apply, clahe_destroy};

static const wb_module_desc clahe_desc = {
    .struct_size = sizeof clahe_desc,
    .kind = WB_KIND_TRANSFORM,
    .type_name = "clahe",
    .summary = "albumentations CLAHE: contrast-limited adaptive equalisation of the L*a*b* lightness, probability p",
    .params = clahe_params,
    .transform = &clahe_vt,
};

WB_PLUGIN_DEFINE("clahe", "0.1.0", "MIT", &clahe_desc)
