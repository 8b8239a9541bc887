/* Bilinear sampling of HWC RGB images for the geometric transforms, in float
 * and in 8 bits: resize with half-pixel centres and edge clamping (cv2
 * INTER_LINEAR, torch align_corners=False, no antialiasing) or TensorFlow 1's
 * sampling, and affine warps.
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

/* Where output pixel i samples the input, for a ratio r = in / out:
 * HALF_PIXEL at (i + 0.5) * r - 0.5, clamped at 0 (cv2 INTER_LINEAR, PIL, torch align_corners=False,
 * TF2 half_pixel_centers=True); TF_LEGACY at i * r (TensorFlow 1's and TF.js's resize_bilinear with
 * align_corners and half_pixel_centers false: the image shifts by half an output pixel towards the top left). */
typedef enum wb_resize_sampling { WB_RESIZE_HALF_PIXEL, WB_RESIZE_TF_LEGACY } wb_resize_sampling;

/* sh x sw -> dh x dw. false when out of memory for the index tables. */
bool wb_resize_bilinear_f32(const float *src, int sh, int sw, float *dst, int dh, int dw);
bool wb_resize_bilinear_u8(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw);
/* The same with the sampling convention chosen (the two above are HALF_PIXEL). */
bool wb_resize_bilinear_f32_sampled(const float *src, int sh, int sw, float *dst, int dh, int dw,
                                    wb_resize_sampling sampling);
bool wb_resize_bilinear_u8_sampled(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw,
                                   wb_resize_sampling sampling);

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
