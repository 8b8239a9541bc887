#include "lab.h"

#include <math.h>

/* sRGB primaries to XYZ and back, white point D65 (OpenCV's constants). */
static const double to_xyz[9] = {0.412453, 0.357580, 0.180423, 0.212671, 0.715160,
                                 0.072169, 0.019334, 0.119193, 0.950227};
static const double white[3] = {0.950456, 1.0, 1.088754};
static const float to_rgb[9] = {3.240479f, -1.53715f, -0.498535f, -0.969256f, 1.875991f,
                                0.041556f, 0.055648f, -0.204043f, 1.057311f};

static double linear(double c) { return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4); }
static float gamma_of(float c) { return c <= 0.0031308f ? 12.92f * c : 1.055f * powf(c, 1.0f / 2.4f) - 0.055f; }
static float f_inv(float f) { return f > 0.206893f ? f * f * f : (f - 16.0f / 116.0f) / 7.787f; }

static int descale(int v, int n) { return (v + (1 << (n - 1))) >> n; }

static uint8_t to_byte(long q) { return (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q); }

void lab_tables_init(lab_tables *t) {
    for (int i = 0; i < 256; i++) t->gamma[i] = (uint16_t)lrint(255.0 * (1 << LAB_GAMMA_SHIFT) * linear(i / 255.0));
    for (int i = 0; i < LAB_CBRT_SIZE; i++) {
        double x = i / (255.0 * (1 << LAB_GAMMA_SHIFT));
        double f = x < 216.0 / 24389.0 ? x * 841.0 / 108.0 + 16.0 / 116.0 : cbrt(x);
        t->cbrt[i] = (uint16_t)lrint((1 << LAB_SHIFT2) * f);
    }
    for (int i = 0; i < 9; i++) t->coeffs[i] = (int)lrint((1 << LAB_SHIFT) * to_xyz[i] / white[i / 3]);
}

void lab_from_rgb(const lab_tables *t, const uint8_t rgb[3], uint8_t lab[3]) {
    int r = t->gamma[rgb[0]], g = t->gamma[rgb[1]], b = t->gamma[rgb[2]];
    const int *c = t->coeffs;
    int fx = t->cbrt[descale(r * c[0] + g * c[1] + b * c[2], LAB_SHIFT)];
    int fy = t->cbrt[descale(r * c[3] + g * c[4] + b * c[5], LAB_SHIFT)];
    int fz = t->cbrt[descale(r * c[6] + g * c[7] + b * c[8], LAB_SHIFT)];
    int l_scale = (116 * 255 + 50) / 100, l_shift = -((16 * 255 * (1 << LAB_SHIFT2) + 50) / 100);
    lab[0] = to_byte(descale(l_scale * fy + l_shift, LAB_SHIFT2));
    lab[1] = to_byte(descale(500 * (fx - fy) + 128 * (1 << LAB_SHIFT2), LAB_SHIFT2));
    lab[2] = to_byte(descale(200 * (fy - fz) + 128 * (1 << LAB_SHIFT2), LAB_SHIFT2));
}

void rgb_from_lab(const uint8_t lab[3], uint8_t rgb[3]) {
    float l = lab[0] * 100.0f / 255.0f, a = lab[1] - 128.0f, b = lab[2] - 128.0f;
    float y, fy;
    if (l <= 8.0f) y = l / 903.3f, fy = 7.787f * y + 16.0f / 116.0f;
    else fy = (l + 16.0f) / 116.0f, y = fy * fy * fy;
    float x = f_inv(a / 500.0f + fy) * (float)white[0], z = f_inv(fy - b / 200.0f) * (float)white[2];
    for (int i = 0; i < 3; i++) {
        float c = to_rgb[3 * i] * x + to_rgb[3 * i + 1] * y + to_rgb[3 * i + 2] * z;
        c = c < 0 ? 0 : c > 1 ? 1 : c;
        rgb[i] = to_byte(lrintf(gamma_of(c) * 255.0f));
    }
}
