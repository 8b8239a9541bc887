/* Label plates with FreeType-rendered text. The font is loaded once, on
 * first use, from the Debian package fonts-dejavu-core. */
#include <ft2build.h>
#include FT_FREETYPE_H
#include <pthread.h>
#include <string.h>
#include "../runtime/log.h"
#include <stddef.h>
#include "canvas.h"

#define FONT_PATH "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define PAD 2

static FT_Library g_lib;
static FT_Face g_face;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void load_font(void) {
    if (FT_Init_FreeType(&g_lib) != 0 || FT_New_Face(g_lib, FONT_PATH, 0, &g_face) != 0) {
        wb_log_once("font", WB_LOG_WARN, "draw", "cannot load %s (install fonts-dejavu-core): labels are drawn "
                    "without text", FONT_PATH);
        g_face = NULL;
    }
}

static int text_width(const char *text) {
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (FT_Load_Char(g_face, *p, FT_LOAD_DEFAULT) == 0) w += (int)(g_face->glyph->advance.x >> 6);
    return w;
}

/* Blends one glyph's coverage bitmap in white at pen position. */
static void blit(wb_canvas *c, const FT_Bitmap *bm, int left, int top) {
    for (unsigned r = 0; r < bm->rows; r++) {
        int y = top + (int)r;
        if (y < 0 || y >= c->height) continue;
        for (unsigned col = 0; col < bm->width; col++) {
            int x = left + (int)col;
            if (x < 0 || x >= c->width) continue;
            unsigned a = bm->buffer[r * (unsigned)bm->pitch + col];
            uint8_t *px = c->rgb + ((size_t)y * c->width + x) * 3;
            for (int k = 0; k < 3; k++) px[k] = (uint8_t)((px[k] * (255 - a) + 255 * a) / 255);
        }
    }
}

void wb_draw_label(wb_canvas *c, int x, int y, const char *text, wb_rgb color) {
    pthread_once(&g_once, load_font);
    /* Text height follows the image: readable on photos, not a wall on thumbnails. */
    int short_side = c->width < c->height ? c->width : c->height;
    int px = short_side / 32 < 9 ? 9 : (short_side / 32 > 18 ? 18 : short_side / 32);
    if (g_face) FT_Set_Pixel_Sizes(g_face, 0, (FT_UInt)px);
    int w = (g_face ? text_width(text) : px / 2 * (int)strlen(text)) + 2 * PAD;
    int h = px + 2 * PAD;
    int top = y - h >= 0 ? y - h : y; /* above the box, or inside it at the image top */
    if (x + w > c->width) x = c->width - w > 0 ? c->width - w : 0;
    wb_fill_rect(c, x, top, x + w, top + h, color);
    if (!g_face) return;
    int pen = x + PAD, baseline = top + PAD + (int)(g_face->size->metrics.ascender >> 6);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (FT_Load_Char(g_face, *p, FT_LOAD_RENDER) != 0) continue;
        FT_GlyphSlot gs = g_face->glyph;
        blit(c, &gs->bitmap, pen + gs->bitmap_left, baseline - gs->bitmap_top);
        pen += (int)(gs->advance.x >> 6);
    }
}

void wb_text_shutdown(void) {
    if (g_face) FT_Done_Face(g_face);
    if (g_lib) FT_Done_FreeType(g_lib);
    g_face = NULL;
    g_lib = NULL;
}
