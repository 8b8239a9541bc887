/* A figure: a white cairo image surface to draw plots on, saved as PNG
 * (cairo's writer) or JPEG (libjpeg-turbo) by the file name's extension. */
#ifndef WB_CORE_PLOTS_FIGURE_H
#define WB_CORE_PLOTS_FIGURE_H

#include <cairo.h>
#include <stddef.h>
#include <workbench/types.h>

typedef struct wb_figure {
    cairo_surface_t *surface;
    cairo_t *cr;
    int width, height;
} wb_figure;

/* NULL-safe: a failed creation leaves cr in an error state that draws nothing. */
void wb_figure_open(wb_figure *f, int width, int height);
/* Writes path (.png, or .jpg / .jpeg) atomically, then frees the figure. */
wb_status wb_figure_save(wb_figure *f, const char *path, char *err, size_t err_size);
void wb_figure_close(wb_figure *f);

#endif
