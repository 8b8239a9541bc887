/* Contrast Limited Adaptive Histogram Equalization of one 8-bit plane, as
 * OpenCV's cv::CLAHE (createCLAHE(clip_limit, (tiles_x, tiles_y)).apply):
 * per-tile clipped histograms equalise each tile, and each pixel blends the
 * four nearest tiles' mappings bilinearly. */
#ifndef WB_CLAHE_PLANE_H
#define WB_CLAHE_PLANE_H

#include <stdint.h>

/* In place on h x w values, `stride` bytes apart (3 for one channel of HWC).
 * Returns 0, or -1 when out of memory. */
int clahe_plane(uint8_t *v, int h, int w, int stride, double clip_limit, int tiles_x, int tiles_y);

#endif
