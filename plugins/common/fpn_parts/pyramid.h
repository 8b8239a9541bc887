/* What the FPN-style necks (fpn, pafpn) share, compiled into each: the
 * pyramid's geometry (inputs with doubling strides, start_level, num_outs,
 * output levels and specs) and the top-down pass over the laterals. Their
 * convs differ in parameter names and init, so each plugin makes its own. */
#ifndef FP_PYRAMID_H
#define FP_PYRAMID_H

#include <workbench/workbench.h>

#define FP_MAX_LEVELS 8

typedef struct fp_pyramid {
    int n_in;
    int in_channels[FP_MAX_LEVELS];
    int in_levels[FP_MAX_LEVELS]; /* log2 of each input's stride */
    int out_channels;
    int start_level;
    int n_used;                   /* inputs start_level..n_in-1 */
    int num_outs;
} fp_pyramid;

/* The inputs' channels and levels, then out_channels, start_level and
 * num_outs from p; errors name owner. */
wb_status fp_pyramid_read(wb_ctx *ctx, fp_pyramid *g, const wb_params *p, const wb_feature_spec *in, int n_in,
                          const char *owner);
/* Level (log2 stride) of output i: the used inputs', then one more per extra level. */
int fp_out_level(const fp_pyramid *g, int i);
/* "p<level>" specs of the num_outs outputs. */
int fp_output_specs(const fp_pyramid *g, wb_feature_spec *out, int max_out);
/* Top-down: each coarser sum is upsampled to the finer lateral's own size, so
 * odd input sizes work (F.interpolate(size=..., mode='nearest')); the
 * laterals are replaced by the sums. */
void fp_top_down(wb_ctx *ctx, wb_tensor **lateral, int n);

#endif
