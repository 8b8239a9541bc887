/* Internal: random_affine's draws and matrix, so tests can give the values
 * YOLOv5's random_perspective would draw and compare pixels and boxes. */
#ifndef WB_CORE_DATA_TRANSFORMS_AFFINE_H
#define WB_CORE_DATA_TRANSFORMS_AFFINE_H

#include <workbench/params.h>
#include "sample.h"

/* One draw of YOLOv5's random_perspective, in its own units. */
typedef struct wb_affine_draw {
    double perspective_x, perspective_y; /* P[2, 0], P[2, 1] */
    double degrees, scale;               /* R: cv2.getRotationMatrix2D(angle, (0, 0), scale) */
    double shear_x, shear_y;             /* S[0, 1] = tan(shear_x deg), S[1, 0] = tan(shear_y deg) */
    double translate_x, translate_y;     /* T: (0.5 + translate) * output size */
} wb_affine_draw;

/* M = T S R P C (C centres the w x h input), row-major 3x3, as YOLOv5 composes it. */
void wb_affine_matrix(const wb_affine_draw *d, int w, int h, int ow, int oh, double m[9]);

/* random_affine with params (NULL: defaults) and the given draw instead of
 * random ones: the warp and the box filtering of the transform itself. */
wb_status wb_random_affine_apply_draw(const wb_params *params, const wb_affine_draw *d, wb_data_sample *s,
                                      char *err, size_t err_size);

#endif
