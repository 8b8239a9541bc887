#include "sample.h"

#include <stdlib.h>
#include <string.h>

/* Grows *buf to `need` values of `size` bytes; contents are not kept (every
 * caller overwrites the whole buffer), so free + malloc, not realloc. */
static bool grow(void **buf, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return true;
    free(*buf);
    *buf = malloc(need * size);
    *cap = *buf ? need : 0;
    return *buf != NULL;
}

static bool grow_floats(float **buf, size_t *cap, size_t need) {
    void *p = *buf;
    bool ok = grow(&p, cap, need, sizeof(float));
    *buf = p;
    return ok;
}

static bool grow_bytes(uint8_t **buf, size_t *cap, size_t need) {
    void *p = *buf;
    bool ok = grow(&p, cap, need, 1);
    *buf = p;
    return ok;
}

bool wb_data_sample_reserve_boxes(wb_data_sample *s, int n) {
    if (n <= s->box_cap) return true;
    float *b = realloc(s->boxes, (size_t)n * 4 * sizeof *b);
    if (b) s->boxes = b;
    int *l = realloc(s->labels, (size_t)n * sizeof *l);
    if (l) s->labels = l;
    uint8_t *g = realloc(s->ignore, (size_t)n);
    if (g) s->ignore = g;
    if (!b || !l || !g) return false;
    s->box_cap = n;
    return true;
}

bool wb_data_sample_load(wb_data_sample *s, const uint8_t *rgb, int h, int w, int ori_h, int ori_w,
                         const float *boxes, const int *labels, const uint8_t *ignore, int num_boxes) {
    size_t n = (size_t)h * (size_t)w * 3;
    if (!grow_bytes(&s->img8, &s->img8_cap, n) || !wb_data_sample_reserve_boxes(s, num_boxes)) return false;
    memcpy(s->img8, rgb, n);
    s->is_float = false;
    s->h = s->valid_h = h;
    s->w = s->valid_w = w;
    s->ori_h = ori_h, s->ori_w = ori_w;
    s->scale_x = (float)w / (float)ori_w, s->scale_y = (float)h / (float)ori_h;
    s->offset_x = s->offset_y = 0.0f;
    s->flip_h = s->flip_v = false;
    s->tile_w = s->tile_h = 0;
    s->num_boxes = num_boxes;
    if (num_boxes > 0) {
        for (int i = 0; i < 4 * num_boxes; i++)
            s->boxes[i] = boxes[i] * (i % 2 == 0 ? s->scale_x : s->scale_y);
        memcpy(s->labels, labels, (size_t)num_boxes * sizeof *labels);
        if (ignore)
            memcpy(s->ignore, ignore, (size_t)num_boxes);
        else
            memset(s->ignore, 0, (size_t)num_boxes);
    }
    return true;
}

bool wb_data_sample_to_float(wb_data_sample *s) {
    if (s->is_float) return true;
    size_t n = (size_t)s->h * (size_t)s->w * 3;
    if (!grow_floats(&s->img, &s->img_cap, n)) return false;
    for (size_t i = 0; i < n; i++) s->img[i] = (float)s->img8[i];
    s->is_float = true;
    return true;
}

float *wb_data_sample_float_target(wb_data_sample *s, int h, int w) {
    return grow_floats(&s->spare, &s->spare_cap, (size_t)h * (size_t)w * 3) ? s->spare : NULL;
}

void wb_data_sample_swap_float(wb_data_sample *s, int h, int w) {
    s->is_float = true;
    wb_data_sample_swap(s, h, w);
}

bool wb_data_sample_allow_fill(wb_data_sample *s, float value) {
    bool is_byte = value >= 0.0f && value <= 255.0f && value == (float)(int)value;
    return is_byte || wb_data_sample_to_float(s);
}

void wb_data_sample_fill(const wb_data_sample *s, void *pixels, size_t n, float value) {
    if (!s->is_float) {
        memset(pixels, (int)value, 3 * n);
        return;
    }
    float *f = pixels;
    for (size_t i = 0; i < 3 * n; i++) f[i] = value;
}

size_t wb_data_sample_value_size(const wb_data_sample *s) { return s->is_float ? sizeof(float) : 1; }

void *wb_data_sample_pixels(const wb_data_sample *s) { return s->is_float ? (void *)s->img : (void *)s->img8; }

void *wb_data_sample_target(wb_data_sample *s, int h, int w) {
    size_t n = (size_t)h * (size_t)w * 3;
    if (s->is_float) return grow_floats(&s->spare, &s->spare_cap, n) ? (void *)s->spare : NULL;
    return grow_bytes(&s->spare8, &s->spare8_cap, n) ? (void *)s->spare8 : NULL;
}

void wb_data_sample_swap(wb_data_sample *s, int h, int w) {
    if (s->is_float) {
        float *p = s->img;
        size_t cap = s->img_cap;
        s->img = s->spare, s->img_cap = s->spare_cap;
        s->spare = p, s->spare_cap = cap;
    } else {
        uint8_t *p = s->img8;
        size_t cap = s->img8_cap;
        s->img8 = s->spare8, s->img8_cap = s->spare8_cap;
        s->spare8 = p, s->spare8_cap = cap;
    }
    s->h = h;
    s->w = w;
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

void wb_data_sample_clip_boxes(wb_data_sample *s) {
    int kept = 0;
    for (int i = 0; i < s->num_boxes; i++) {
        float *b = s->boxes + 4 * i;
        float x1 = clampf(b[0], 0.0f, (float)s->w), y1 = clampf(b[1], 0.0f, (float)s->h);
        float x2 = clampf(b[2], 0.0f, (float)s->w), y2 = clampf(b[3], 0.0f, (float)s->h);
        if (!(x2 - x1 > 0.0f) || !(y2 - y1 > 0.0f)) continue; /* also drops NaN */
        float *o = s->boxes + 4 * kept;
        o[0] = x1, o[1] = y1, o[2] = x2, o[3] = y2;
        s->labels[kept] = s->labels[i];
        s->ignore[kept] = s->ignore[i];
        kept++;
    }
    s->num_boxes = kept;
}

void wb_data_sample_free(wb_data_sample *s) {
    free(s->img8);
    free(s->spare8);
    free(s->img);
    free(s->spare);
    free(s->boxes);
    free(s->labels);
    free(s->ignore);
    memset(s, 0, sizeof *s);
}
