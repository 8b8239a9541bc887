/* Label plates: a filled plate sized to the laid-out text, the text in white
 * rendered by cairo into a coverage mask and blended onto the RGB canvas. */
#include "canvas.h"
#include "text.h"

#define PAD 2

/* White text coverage of `layout` into the w x h plate at (x, y). */
static void draw_text(wb_canvas *c, int x, int y, int w, int h, PangoLayout *layout, const PangoRectangle *logical) {
    cairo_surface_t *mask = cairo_image_surface_create(CAIRO_FORMAT_A8, w, h);
    cairo_t *cr = cairo_create(mask);
    cairo_move_to(cr, PAD - logical->x, PAD - logical->y);
    wb_text_show(cr, layout);
    cairo_destroy(cr);
    cairo_surface_flush(mask);
    if (cairo_surface_status(mask) == CAIRO_STATUS_SUCCESS)
        wb_blend_mask(c, x, y, cairo_image_surface_get_data(mask), w, h, cairo_image_surface_get_stride(mask),
                      (wb_rgb){255, 255, 255});
    cairo_surface_destroy(mask);
}

void wb_draw_label(wb_canvas *c, int x, int y, const char *text, wb_rgb color) {
    /* Text height follows the image: readable on photos, not a wall on thumbnails. */
    int short_side = c->width < c->height ? c->width : c->height;
    int px = short_side / 32 < 9 ? 9 : (short_side / 32 > 18 ? 18 : short_side / 32);
    PangoLayout *layout = wb_text_layout(text, px);
    if (!layout) return; /* no font: the box alone (warned once) */
    /* A label wider than the picture ends in an ellipsis. */
    if (c->width > 2 * PAD) {
        pango_layout_set_width(layout, (c->width - 2 * PAD) * PANGO_SCALE);
        pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    }
    PangoRectangle logical;
    pango_layout_get_pixel_extents(layout, NULL, &logical);
    int w = logical.width + 2 * PAD, h = logical.height + 2 * PAD;
    int top = y - h >= 0 ? y - h : y; /* above the box, or inside it at the image top */
    if (x + w > c->width) x = c->width - w > 0 ? c->width - w : 0;
    wb_fill_rect(c, x, top, x + w, top + h, color);
    draw_text(c, x, top, w, h, layout, &logical);
    g_object_unref(layout);
}
