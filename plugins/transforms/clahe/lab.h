/* 8-bit RGB <-> CIE L*a*b* (D65) as OpenCV's COLOR_RGB2LAB / COLOR_LAB2RGB
 * store it: L scaled to 0..255, a and b offset by 128.
 * RGB -> Lab follows OpenCV's fixed-point scheme (sRGB gamma table with 3
 * fraction bits, 12-bit XYZ coefficients, cube-root table with 15): all
 * 16.7M colours within 1 level of cv2 4.6, 99.997% equal. Lab -> RGB is
 * floating point: within 1 level of cv2 for all but 6 in a million inputs
 * (2 levels there), 94% equal. */
#ifndef WB_CLAHE_LAB_H
#define WB_CLAHE_LAB_H

#include <stdint.h>

#define LAB_GAMMA_SHIFT 3
#define LAB_SHIFT 12
#define LAB_SHIFT2 (LAB_SHIFT + LAB_GAMMA_SHIFT)
#define LAB_CBRT_SIZE (256 * 3 / 2 * (1 << LAB_GAMMA_SHIFT))

typedef struct lab_tables {
    uint16_t gamma[256];          /* sRGB byte -> linear, 255 << LAB_GAMMA_SHIFT scale */
    uint16_t cbrt[LAB_CBRT_SIZE]; /* linear -> f(t) of L*a*b*, 1 << LAB_SHIFT2 scale */
    int coeffs[9];                /* sRGB -> XYZ / white point, 1 << LAB_SHIFT scale */
} lab_tables;

void lab_tables_init(lab_tables *t);
void lab_from_rgb(const lab_tables *t, const uint8_t rgb[3], uint8_t lab[3]);
void rgb_from_lab(const uint8_t lab[3], uint8_t rgb[3]);

#endif
