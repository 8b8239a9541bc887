/* Peak fp32 throughput: independent FMA chains, enough of them to cover the
 * FMA latency on both ports, so the loop is bound by FMA issue alone. */
#include "fp32_peak.h"

#include <immintrin.h>
#include <omp.h>

#define CHAINS 16
#define ITERS 100000000L

static volatile float g_sink; /* keeps the loops from being optimized away */

__attribute__((target("avx512f"))) static float run_avx512(long iters) {
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    __m512 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float run_avx2(long iters) {
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    float out[8], s = 0.0f;
    for (int i = 1; i < CHAINS; i++) acc[0] = _mm256_add_ps(acc[0], acc[i]);
    _mm256_storeu_ps(out, acc[0]);
    for (int i = 0; i < 8; i++) s += out[i];
    return s;
}

double fp32_peak_gflops(int threads, const char **isa) {
    int avx512 = __builtin_cpu_supports("avx512f");
    int lanes = avx512 ? 16 : 8;
    *isa = avx512 ? "AVX-512" : "AVX2";
    /* Warm-up lets the cores reach their sustained (AVX) frequency. */
    double best = 0.0;
    for (int rep = 0; rep < 3; rep++) {
        float total = 0.0f;
        double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : total)
        total += avx512 ? run_avx512(ITERS / 4) : run_avx2(ITERS / 4);
        double dt = omp_get_wtime() - t0;
        double gflops = (double)threads * (ITERS / 4) * CHAINS * lanes * 2.0 / dt * 1e-9;
        if (gflops > best) best = gflops;
        g_sink = total;
    }
    return best;
}
