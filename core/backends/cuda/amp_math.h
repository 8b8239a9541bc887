/* The number formats of the CUDA backend's mixed precision (amp = "bf16" or
 * "fp16"): float32 to bfloat16 and IEEE binary16, round to nearest even as
 * torch's .to(torch.bfloat16) / .half() and numpy's float16 round, and back.
 * Integer arithmetic on the bits only, so the conversion kernel
 * (amp_convert.cu) and test_cuda_math_amp (on the CPU, against torch) run
 * the same code, and no rounding mode or flush-to-zero setting changes it. */
#ifndef WB_CORE_CUDA_AMP_MATH_H
#define WB_CORE_CUDA_AMP_MATH_H

#include <stdint.h>
#include <string.h>
#include "../hd.h"

WB_HD static inline uint32_t wb_amp_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

WB_HD static inline float wb_amp_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Drops `shift` low bits of v, rounding to nearest with ties to even (1 <= shift <= 31). */
WB_HD static inline uint32_t wb_amp_round_shift(uint32_t v, int shift) {
    uint32_t q = v >> shift, rest = v & ((1u << shift) - 1u), half = 1u << (shift - 1);
    return q + (rest > half || (rest == half && (q & 1u)));
}

/* bfloat16 is float32's upper 16 bits: rounding may carry into the exponent,
 * and past the largest finite value it reaches infinity, as it should. NaN
 * stays a (quiet) NaN instead of rounding into infinity. */
WB_HD static inline uint16_t wb_amp_to_bf16(float f) {
    uint32_t u = wb_amp_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    return (uint16_t)(wb_amp_round_shift(u, 16) & 0xffffu);
}

WB_HD static inline float wb_amp_from_bf16(uint16_t h) { return wb_amp_float((uint32_t)h << 16); }

/* IEEE binary16: 5 exponent bits (bias 15), 10 fraction bits. */
WB_HD static inline uint16_t wb_amp_to_half(float f) {
    uint32_t u = wb_amp_bits(f), a = u & 0x7fffffffu;
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    if (a > 0x7f800000u) return sign | 0x7e00u;  /* NaN */
    if (a >= 0x477ff000u) return sign | 0x7c00u; /* 65520 (halfway past 65504, the largest half) and up: inf */
    if (a >= 0x38800000u)                        /* 2^-14 and up: normal; rebias 127 -> 15, carries are right */
        return sign | (uint16_t)wb_amp_round_shift(a - (112u << 23), 13);
    if (a < 0x33000000u) return sign; /* below 2^-25, half the smallest subnormal: zero */
    /* Subnormal: the value in units of 2^-24, the 24-bit significand shifted by 126 - exponent (14..24). */
    uint32_t significand = (a & 0x7fffffu) | 0x800000u;
    return sign | (uint16_t)wb_amp_round_shift(significand, 126 - (int)(a >> 23));
}

WB_HD static inline float wb_amp_from_half(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1fu, fraction = h & 0x3ffu;
    if (exponent == 31) return wb_amp_float(sign | 0x7f800000u | (fraction << 13)); /* inf, NaN */
    if (exponent == 0) { /* zero and subnormals: fraction x 2^-24, exact in float32 */
        float v = (float)fraction * wb_amp_float(0x33800000u);
        return wb_amp_float(sign | wb_amp_bits(v));
    }
    return wb_amp_float(sign | ((exponent + 112u) << 23) | (fraction << 13));
}

#endif
