/* The detection ops' rows of bench_ops: RoIAlign, RoIPool and GroupNorm
 * forward and backward of the CPU backend at two-stage / FCOS head sizes,
 * next to torchvision / torch (bench/ops/torch_det_ops.py) in lock-step. */
#ifndef WB_BENCH_DET_OPS_H
#define WB_BENCH_DET_OPS_H

/* Prints the table; `only` (NULL: all) selects rows whose name contains it. */
void bench_det_ops(int threads, int reps, int with_torch, const char *only);

#endif
