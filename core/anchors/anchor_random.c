#include "anchor_random.h"

#include <math.h>
#include "../runtime/context.h"

double wb_anchor_uniform(uint64_t *rng) { return (double)(wb_rng_next(rng) >> 11) * 0x1.0p-53; }

double wb_anchor_normal(uint64_t *rng) {
    double u1 = 1.0 - wb_anchor_uniform(rng); /* (0, 1]: the log is finite */
    double u2 = wb_anchor_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int64_t wb_anchor_below(uint64_t *rng, int64_t n) { return (int64_t)(wb_anchor_uniform(rng) * (double)n); }
