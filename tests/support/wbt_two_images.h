/* The fixed batch the trainer-level tests train tiny_cnn + center_head on:
 * two 64x64 images of uniform noise in [-1, 1) (seed 3) with 2 + 1 boxes of
 * classes 0 and 1, and a batch source that hands it out every iteration. */
#ifndef WBT_TWO_IMAGES_H
#define WBT_TWO_IMAGES_H

#include "train/trainer.h"

#define WBT_TWO_IMAGES_NUMEL (2 * 3 * 64 * 64)

/* The pixels (NCHW) and their ground truth; filled on first use. */
const float *wbt_two_images(void);
const wb_batch_truth *wbt_two_images_truth(void);
/* One batch per epoch: the two images. */
wb_batch_source wbt_two_images_source(void);

#endif
