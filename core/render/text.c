/* Pango layouts with the project's fonts, one pango context per thread
 * (pango objects are not shared between threads; fontconfig, which all
 * threads' font maps read, is thread-safe). */
#include "text.h"

#include <pthread.h>
#include <stdbool.h>
#include "../runtime/log.h"

/* What a thread keeps between calls, so that no call reloads fonts: a context
 * over pango's per-thread default font map (whose font cache lives as long as
 * the thread) and the font description. */
typedef struct thread_text {
    PangoContext *ctx;
    PangoFontDescription *font;
} thread_text;

static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static bool g_have_fonts;

static void free_thread_text(void *p) {
    thread_text *t = p;
    g_object_unref(t->ctx);
    pango_font_description_free(t->font);
    g_free(t);
}

/* Without fonts pango still lists its generic families (Sans, Serif, ...),
 * but loads no font for them. */
static bool any_font_installed(void) {
    PangoFontMap *map = pango_cairo_font_map_get_default();
    PangoContext *ctx = pango_font_map_create_context(map);
    PangoFontDescription *sans = pango_font_description_from_string("Sans");
    PangoFont *font = pango_font_map_load_font(map, ctx, sans);
    if (font) g_object_unref(font);
    pango_font_description_free(sans);
    g_object_unref(ctx);
    return font != NULL;
}

static void init_once(void) {
    pthread_key_create(&g_key, free_thread_text);
    g_have_fonts = any_font_installed();
    if (!g_have_fonts)
        wb_log_once("fonts", WB_LOG_WARN, "draw", "fontconfig finds no font: pictures show boxes without labels; "
                    "install fonts-dejavu-core (and fonts-noto-cjk for Chinese, Japanese and Korean class names)");
}

static thread_text *this_thread(void) {
    thread_text *t = pthread_getspecific(g_key);
    if (t) return t;
    t = g_new0(thread_text, 1);
    t->ctx = pango_font_map_create_context(pango_cairo_font_map_get_default());
    /* Grey antialiasing (no colour fringes in JPEGs) and whole-pixel metrics:
     * the same text measures and draws the same on every cairo target. */
    cairo_font_options_t *o = cairo_font_options_create();
    cairo_font_options_set_antialias(o, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(o, CAIRO_HINT_STYLE_SLIGHT);
    cairo_font_options_set_hint_metrics(o, CAIRO_HINT_METRICS_ON);
    pango_cairo_context_set_font_options(t->ctx, o);
    cairo_font_options_destroy(o);
    t->font = pango_font_description_from_string("Sans");
    pthread_setspecific(g_key, t);
    return t;
}

/* Class names come from datasets, their bytes may be anything: valid UTF-8
 * on one line, control characters (newline, tab, ...) as spaces. */
static gchar *one_line(const char *text) {
    gchar *s = g_utf8_make_valid(text, -1);
    for (unsigned char *p = (unsigned char *)s; *p; p++) /* bytes < 0x80 are whole characters in UTF-8 */
        if (*p < 0x20 || *p == 0x7f) *p = ' ';
    return s;
}

PangoLayout *wb_text_layout(const char *text, double px) {
    pthread_once(&g_once, init_once);
    if (!g_have_fonts) return NULL;
    thread_text *t = this_thread();
    pango_font_description_set_absolute_size(t->font, px * PANGO_SCALE);
    PangoLayout *layout = pango_layout_new(t->ctx);
    pango_layout_set_font_description(layout, t->font);
    gchar *valid = one_line(text);
    pango_layout_set_text(layout, valid, -1);
    if (pango_layout_get_unknown_glyphs_count(layout) > 0)
        wb_log_once("glyphs", WB_LOG_WARN, "draw", "no installed font has some characters of '%s': they are drawn "
                    "as boxes; install fonts-noto-cjk (Chinese, Japanese, Korean) or fonts-noto-core (most other "
                    "scripts)", valid);
    g_free(valid);
    return layout;
}

void wb_text_show(cairo_t *cr, PangoLayout *layout) {
    /* Our context was not made from cr: hint for cr's matrix and target. */
    pango_cairo_update_context(cr, pango_layout_get_context(layout));
    pango_cairo_show_layout(cr, layout);
}
