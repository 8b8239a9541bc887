/* The project's text: UTF-8 laid out by pango with the fonts fontconfig
 * chooses ("Sans", falling back per script: DejaVu Sans for Latin, Noto Sans
 * CJK for Chinese, Japanese and Korean). Label plates use it today; plots
 * (cairo is the project's 2D library) use the same two calls on their own
 * cairo surfaces, so every picture the workbench writes shares one font setup.
 *
 * Safe from any thread: pango objects must stay in the thread that made them,
 * so each thread gets its own pango context (made on its first call, freed
 * when it exits); a layout must be used and freed in the thread that made it. */
#ifndef WB_CORE_TEXT_H
#define WB_CORE_TEXT_H

#include <pango/pangocairo.h>

/* `text` laid out on one line at `px` pixels per em. Bytes that are not
 * UTF-8 become U+FFFD, control characters spaces. Text no installed
 * font covers is drawn as boxes, with a one-time warning naming the font
 * package to install. NULL, with a one-time warning, when fontconfig finds no
 * font at all. Free with g_object_unref. */
PangoLayout *wb_text_layout(const char *text, double px);

/* Draws the layout in the colour source of `cr`, its top-left corner at the
 * current point, hinted for cr's transformation and target. */
void wb_text_show(cairo_t *cr, PangoLayout *layout);

#endif
