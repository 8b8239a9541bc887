/* Network inputs back to pictures: the batch tensor (N x 3 x H x W floats,
 * normalised by the pipeline's `normalize` step) as 8-bit RGB. */
#ifndef WB_CORE_PLOTS_BATCH_PIXELS_H
#define WB_CORE_PLOTS_BATCH_PIXELS_H

#include <stdbool.h>
#include <stdint.h>
#include "../config/config.h"

typedef struct wb_denorm {
    float mean[3], std[3]; /* per input channel */
    bool bgr;              /* channels are B, G, R (normalize's to_rgb = false) */
} wb_denorm;

/* The normalize step of data.<split>.pipeline (its schema's defaults for
 * keys it leaves out); pixels pass as they are when there is none. */
void wb_denorm_of_split(wb_config *cfg, const char *split, wb_denorm *d);
/* Image i of an N x 3 x h x w batch as h x w x 3 RGB bytes into out. */
void wb_denorm_image(const float *batch, int i, int h, int w, const wb_denorm *d, uint8_t *out);

#endif
