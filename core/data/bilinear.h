/* Bilinear sampling of HWC RGB images for the geometric transforms, in float
 * and in 8 bits: resize with half-pixel centres and edge clamping (cv2
 * INTER_LINEAR, torch align_corners=False, no antialiasing) and affine warps.
 *
 * The 8-bit kernels weigh neighbours with 11-bit fixed-point fractions (as
 * cv2's 8-bit resize does), rounded, and round results to the nearest level:
 * on the same input they stay within 0.65 levels of the float kernels (0.5
 * from the result, 255 / 4096 per axis from the fractions, and under 0.02
 * from the float kernels' own position rounding at canvas sizes). */
#ifndef WB_CORE_DATA_BILINEAR_H
#define WB_CORE_DATA_BILINEAR_H

#include <stdbool.h>
#include <stdint.h>

/* sh x sw -> dh x dw. false when out of memory for the index tables. */
bool wb_resize_bilinear_f32(const float *src, int sh, int sw, float *dst, int dh, int dw);
bool wb_resize_bilinear_u8(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw);

/* oh x ow output whose pixel centres map through the forward 2x3 matrix m
 * (output = m * input, row-major); samples from outside the sh x sw input
 * read as `border`. m must be invertible. */
void wb_warp_affine_f32(const float *src, int sh, int sw, const double m[6], float border, float *dst, int oh,
                        int ow);
/* false when out of memory for its tables. */
bool wb_warp_affine_u8(const uint8_t *src, int sh, int sw, const double m[6], uint8_t border, uint8_t *dst,
                       int oh, int ow);
/* The same with a 3x3 homography m (row-major, cv2.warpPerspective's forward
 * matrix on pixel centres); outputs whose source lies at or behind the
 * horizon get the border. */
void wb_warp_perspective_f32(const float *src, int sh, int sw, const double m[9], float border, float *dst, int oh,
                             int ow);
void wb_warp_perspective_u8(const uint8_t *src, int sh, int sw, const double m[9], uint8_t border, uint8_t *dst,
                            int oh, int ow);

#endif
