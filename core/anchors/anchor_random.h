/* Double-precision draws on a splitmix64 stream (wb_rng_next) for the
 * anchor search: its acceptance tests compare small fitness gains, which
 * float draws (24 bits) would quantise. */
#ifndef WB_CORE_ANCHORS_ANCHOR_RANDOM_H
#define WB_CORE_ANCHORS_ANCHOR_RANDOM_H

#include <stdint.h>

double wb_anchor_uniform(uint64_t *rng);  /* [0, 1) */
double wb_anchor_normal(uint64_t *rng);   /* N(0, 1) */
int64_t wb_anchor_below(uint64_t *rng, int64_t n); /* [0, n), n >= 1 */

#endif
