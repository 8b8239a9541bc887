/* Label plates with UTF-8 text (core/render): ASCII, Chinese, mixed and
 * invalid UTF-8 class names draw real glyphs on plates sized to the text,
 * from several threads at once. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "render/canvas.h"
#include "render/text.h"
#include "wbtest.h"

#define W 320
#define H 120
static const wb_rgb BACKGROUND = {40, 40, 40}, PLATE = {0, 0, 160};

static const char *const CJK = "\xe7\xba\xa2\xe7\xbb\x86\xe8\x83\x9e"; /* 红细胞 (red blood cell) */
static const char *const MIXED = "RBC \xe7\xba\xa2\xe7\xbb\x86\xe8\x83\x9e 0.97";
/* 0xff and 0xfe never occur in UTF-8; e7 ba opens 红 and stops (a name cut mid-character). */
static const char *const INVALID = "\xff\xfe" "bad \xe7\xba";

typedef struct drawn {
    int plate_x1, plate_x2; /* columns the plate covers, x2 exclusive */
    int text_pixels;        /* plate pixels the white text lightened */
} drawn;

static wb_canvas new_canvas(int w, int h) {
    wb_canvas c = {malloc((size_t)w * h * 3), w, h};
    wb_fill_rect(&c, 0, 0, w, h, BACKGROUND);
    return c;
}

static bool is(const uint8_t *px, wb_rgb c) { return px[0] == c.r && px[1] == c.g && px[2] == c.b; }

static PangoLayout *layout(const char *text) {
    PangoLayout *l = wb_text_layout(text, 14);
    ck_assert_msg(l != NULL, "fontconfig finds no font: install fonts-dejavu-core (scripts/setup.sh)");
    return l;
}

/* Draws `text` at (8, 60) on a fresh canvas and measures what changed. */
static drawn draw(const char *text) {
    g_object_unref(layout(text));
    wb_canvas c = new_canvas(W, H);
    wb_draw_label(&c, 8, 60, text, PLATE);
    drawn d = {W, 0, 0};
    for (int i = 0; i < W * H; i++) {
        const uint8_t *px = c.rgb + 3 * i;
        if (is(px, BACKGROUND)) continue;
        int x = i % W;
        d.plate_x1 = x < d.plate_x1 ? x : d.plate_x1;
        d.plate_x2 = x + 1 > d.plate_x2 ? x + 1 : d.plate_x2;
        if (!is(px, PLATE)) {
            ck_assert_msg(px[0] > PLATE.r && px[1] > PLATE.g && px[0] == px[1],
                          "'%s': pixel %d is (%d, %d, %d), not plate blue blended with white", text, i, px[0],
                          px[1], px[2]);
            d.text_pixels++;
        }
    }
    free(c.rgb);
    return d;
}

/* Whether any installed font has the character (asked of fontconfig's
 * fallback list through pango, apart from the code under test). */
static bool installed_font_has(gunichar wc) {
    PangoFontMap *fm = pango_cairo_font_map_get_default();
    PangoContext *ctx = pango_font_map_create_context(fm);
    PangoFontDescription *desc = pango_font_description_from_string("Sans 12");
    PangoFontset *set = pango_font_map_load_fontset(fm, ctx, desc, pango_language_from_string("zh-cn"));
    PangoFont *font = set ? pango_fontset_get_font(set, wc) : NULL;
    bool has = font && pango_font_has_char(font, wc);
    if (font) g_object_unref(font);
    if (set) g_object_unref(set);
    pango_font_description_free(desc);
    g_object_unref(ctx);
    return has;
}

START_TEST(test_ascii_cjk_mixed_and_invalid_names_draw_text) {
    const char *names[] = {"RBC 0.97", CJK, MIXED, INVALID};
    for (int i = 0; i < 4; i++) {
        drawn d = draw(names[i]);
        ck_assert_msg(d.plate_x2 > d.plate_x1, "'%s': no plate drawn", names[i]);
        ck_assert_msg(d.text_pixels >= 20, "'%s': only %d text pixels on the plate", names[i], d.text_pixels);
    }
}
END_TEST

START_TEST(test_cjk_name_has_real_glyphs) {
    if (!installed_font_has(0x7EA2)) {
        fprintf(stderr, "skipped: no installed font has U+7EA2 (\xe7\xba\xa2); install fonts-noto-cjk\n");
        return;
    }
    const char *names[] = {CJK, MIXED};
    for (int i = 0; i < 2; i++) {
        PangoLayout *l = layout(names[i]);
        ck_assert_msg(pango_layout_get_unknown_glyphs_count(l) == 0, "'%s' has %d tofu boxes", names[i],
                      pango_layout_get_unknown_glyphs_count(l));
        g_object_unref(l);
    }
}
END_TEST

START_TEST(test_invalid_utf8_becomes_replacement_characters) {
    PangoLayout *l = layout(INVALID);
    /* One U+FFFD (ef bf bd) per byte that is not UTF-8 (glib's g_utf8_make_valid). */
    ck_assert_str_eq(pango_layout_get_text(l), "\xef\xbf\xbd\xef\xbf\xbd" "bad \xef\xbf\xbd\xef\xbf\xbd");
    ck_assert_int_eq(pango_layout_get_unknown_glyphs_count(l), 0);
    g_object_unref(l);
    /* Control characters in a class name are spaces: one line, no boxes. */
    l = layout("two\nlines\tand\x7f");
    ck_assert_str_eq(pango_layout_get_text(l), "two lines and ");
    ck_assert_int_eq(pango_layout_get_line_count(l), 1);
    ck_assert_int_eq(pango_layout_get_unknown_glyphs_count(l), 0);
    g_object_unref(l);
}
END_TEST

START_TEST(test_plate_grows_with_text) {
    const char *ascii[] = {"a", "a label", "a much longer label"};
    const char *cjk[] = {"\xe7\xba\xa2", CJK, MIXED};
    const char *const *rows[] = {ascii, cjk};
    for (int r = 0; r < 2; r++) {
        int last = 0;
        for (int i = 0; i < 3; i++) {
            drawn d = draw(rows[r][i]);
            int w = d.plate_x2 - d.plate_x1;
            ck_assert_msg(w > last, "plate of '%s' is %d px wide, not wider than the %d px of the shorter text",
                          rows[r][i], w, last);
            last = w;
        }
    }
    /* Each CJK character is about one em (14 px at this canvas size) wide. */
    int one = draw("\xe7\xba\xa2").plate_x2, three = draw(CJK).plate_x2;
    ck_assert_msg(three - one >= 2 * 9, "two more CJK characters widen the plate by only %d px", three - one);
}
END_TEST

START_TEST(test_labels_at_edges_and_too_long_stay_inside) {
    wb_canvas c = new_canvas(64, 20);
    wb_draw_label(&c, -30, -10, MIXED, PLATE);
    wb_draw_label(&c, 60, 30, MIXED, PLATE);
    wb_draw_label(&c, 1000000, 1000000, INVALID, PLATE);
    free(c.rgb);
    /* 3000 characters on a 320 px picture: one ellipsized plate, no wider than the picture. */
    char *long_name = malloc(3 * 1000 + 1);
    for (int i = 0; i < 1000; i++) memcpy(long_name + 3 * i, "\xe7\xba\xa2", 3);
    long_name[3000] = '\0';
    drawn d = draw(long_name);
    ck_assert_int_eq(d.plate_x1, 0);
    ck_assert_int_eq(d.plate_x2, W);
    ck_assert_int_ge(d.text_pixels, 20);
    free(long_name);
    /* A 1-pixel picture: nothing to draw on, nothing breaks. */
    c = new_canvas(1, 1);
    wb_draw_label(&c, 0, 0, "x", PLATE);
    free(c.rgb);
}
END_TEST

enum { THREADS = 4, ROUNDS = 10 };

static void *draw_repeatedly(void *canvas) {
    for (int r = 0; r < ROUNDS; r++) {
        wb_canvas *c = canvas;
        wb_fill_rect(c, 0, 0, W, H, BACKGROUND);
        wb_draw_label(c, 8, 60, MIXED, PLATE);
        wb_draw_label(c, 150, 100, INVALID, PLATE);
    }
    return NULL;
}

START_TEST(test_threads_draw_what_one_thread_draws) {
    wb_canvas want = new_canvas(W, H), got[THREADS];
    draw_repeatedly(&want);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        got[i] = new_canvas(W, H);
        ck_assert_int_eq(pthread_create(&t[i], NULL, draw_repeatedly, &got[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(memcmp(got[i].rgb, want.rgb, (size_t)W * H * 3) == 0,
                      "thread %d drew other pixels than the main thread", i);
        free(got[i].rgb);
    }
    free(want.rgb);
}
END_TEST

static Suite *render_suite(void) {
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, test_ascii_cjk_mixed_and_invalid_names_draw_text);
    tcase_add_test(tc, test_cjk_name_has_real_glyphs);
    tcase_add_test(tc, test_invalid_utf8_becomes_replacement_characters);
    tcase_add_test(tc, test_plate_grows_with_text);
    tcase_add_test(tc, test_labels_at_edges_and_too_long_stay_inside);
    tcase_add_test(tc, test_threads_draw_what_one_thread_draws);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return wbt_run_suite(render_suite()); }
