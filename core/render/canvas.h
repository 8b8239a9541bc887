/* Drawing detections on an RGB image: box outlines and filled label plates
 * with UTF-8 text (pango and cairo, see text.h), one colour per class. */
#ifndef WB_CORE_CANVAS_H
#define WB_CORE_CANVAS_H

#include <stdint.h>

typedef struct wb_canvas {
    uint8_t *rgb;  /* HWC */
    int width, height;
} wb_canvas;

typedef struct wb_rgb {
    uint8_t r, g, b;
} wb_rgb;

/* A distinct, saturated colour for class k (golden-ratio hue steps). */
wb_rgb wb_class_color(int k);
void wb_draw_rect(wb_canvas *c, float x1, float y1, float x2, float y2, int thickness, wb_rgb color);
void wb_fill_rect(wb_canvas *c, int x1, int y1, int x2, int y2, wb_rgb color);
/* Paints `color` through an 8-bit coverage mask (0 keeps a pixel, 255
 * replaces it; a cairo A8 surface's data) whose top-left corner lands at
 * (x, y); what falls outside the canvas is clipped. */
void wb_blend_mask(wb_canvas *c, int x, int y, const uint8_t *alpha, int w, int h, int stride, wb_rgb color);

/* A label plate in `color`, sized to the UTF-8 `text` written on it in
 * white, above (x, y), or below it at the image top; ellipsized when wider
 * than the image. Without any font nothing is drawn (warned once). Safe from
 * any thread (on distinct canvases). */
void wb_draw_label(wb_canvas *c, int x, int y, const char *text, wb_rgb color);

#endif
