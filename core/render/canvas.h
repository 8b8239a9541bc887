/* Drawing detections on an RGB image: box outlines, filled label plates
 * and anti-aliased text (FreeType with DejaVu Sans), one colour per class. */
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

/* A label plate "text" in `color` with white text, above (x, y) or inside
 * the image when there is no room. Without a usable font only the plate is
 * drawn (and a warning is logged once). */
void wb_draw_label(wb_canvas *c, int x, int y, const char *text, wb_rgb color);

/* Frees the font (at exit). */
void wb_text_shutdown(void);

#endif
