/* Drawing for the synthetic dataset: a textured background and filled
 * shapes, each with its exact pixel bounding box. */
#ifndef WB_SYNTHETIC_DRAW_H
#define WB_SYNTHETIC_DRAW_H

#include <stdint.h>

enum { SHAPE_RECTANGLE = 0, SHAPE_ELLIPSE = 1, SHAPE_TRIANGLE = 2, SHAPE_KINDS = 3 };

typedef struct rng64 {
    uint64_t state;
} rng64;

uint64_t rng_next(rng64 *r);
float rng_unit(rng64 *r); /* [0, 1) */

/* Smooth colour gradient plus mild noise over size x size RGB pixels. */
void draw_background(uint8_t *rgb, int size, rng64 *r);
/* Draws shape `kind` inside the square box (x, y, x + s, y + s), scaled by
 * the random aspect in the r stream; writes the tight pixel box (x1 y1 x2 y2,
 * x2/y2 exclusive) of what was drawn. Returns 0 if nothing was drawn. */
int draw_shape(uint8_t *rgb, int size, int kind, float x, float y, float w, float h, rng64 *r, float box[4]);

#endif
