/* This machine's fp32 peak: a register-only FMA loop on every thread. */
#ifndef WB_BENCH_FP32_PEAK_H
#define WB_BENCH_FP32_PEAK_H

/* GFLOP/s with `threads` OpenMP threads (AVX-512 when the CPU has it, else
 * AVX2 FMA); *isa names the instruction set used. */
double fp32_peak_gflops(int threads, const char **isa);

#endif
