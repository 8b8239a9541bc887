/* Hue/saturation/value gains on HWC RGB pixels (values 0..255), for the
 * photometric distortion and YOLO's HSV augmentation, on float or 8-bit
 * images. HSV is OpenCV's for float images: hue in degrees, saturation
 * 0..1, value = max(r, g, b). Both kernels compute in float: the 8-bit one
 * differs from the float one only by rounding the result (<= 0.5 level). */
#ifndef WB_CORE_DATA_HSV_H
#define WB_CORE_DATA_HSV_H

#include <stddef.h>
#include <stdint.h>

typedef struct wb_hsv_gains {
    float hue_gain, hue_shift; /* hue * gain + shift degrees, wrapped to [0, 360); |shift| < 360, gain < 2 */
    float sat_gain;            /* saturation * gain, at most 1 */
    float val_gain;            /* value * gain, at most 255 */
} wb_hsv_gains;

void wb_hsv_scale_f32(float *rgb, size_t pixels, const wb_hsv_gains *g);
void wb_hsv_scale_u8(uint8_t *rgb, size_t pixels, const wb_hsv_gains *g);

#endif
