/* The CUDA backend's amp conversions (backends/cuda/amp_math.h, the code
 * amp_convert.cu runs on the device): float32 -> bfloat16 / float16 against
 * torch's rounding (tests/parity/gen_amp.py: ties, the largest finite values,
 * float16's overflow threshold, subnormals and their ties, +-0, +-inf, NaN,
 * 4096 random bit patterns), float16 against publish's converter (itself
 * checked against F16C) on 2^20 random patterns, and every bfloat16 and
 * float16 widened and narrowed again to the same bits. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "app/publish.h"
#include "backends/cuda/amp_math.h"
#include "wbtest.h"

static bool same_value(float got, float want) {
    return memcmp(&got, &want, sizeof got) == 0 || (isnan(got) && isnan(want));
}

START_TEST(test_rounds_as_torch) {
    wb_st_file f;
    if (!wbt_parity_open("amp_rounding", &f)) return;
    const wb_st_tensor *xt = wb_st_find(&f, "x");
    ck_assert_ptr_nonnull(xt);
    int64_t n = xt->shape[0];
    ck_assert_int_gt(n, 4096);
    const float *x = wbt_parity_tensor(&f, "x", n), *bf = wbt_parity_tensor(&f, "bf16", n),
                *half = wbt_parity_tensor(&f, "f16", n);
    for (int64_t i = 0; i < n; i++) {
        float got_bf = wb_amp_from_bf16(wb_amp_to_bf16(x[i])), got_half = wb_amp_from_half(wb_amp_to_half(x[i]));
        ck_assert_msg(same_value(got_bf, bf[i]), "x[%lld] = %a (0x%08x): bf16 gives %a, torch %a", (long long)i,
                      x[i], wb_amp_bits(x[i]), got_bf, bf[i]);
        ck_assert_msg(same_value(got_half, half[i]), "x[%lld] = %a (0x%08x): f16 gives %a, torch %a", (long long)i,
                      x[i], wb_amp_bits(x[i]), got_half, half[i]);
    }
    wb_st_free(&f);
}
END_TEST

START_TEST(test_half_matches_publish) {
    uint64_t state = 0x2545f4914f6cdd1du;
    for (int i = 0; i < (1 << 20); i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        float f = wb_amp_float((uint32_t)(state >> 32));
        if (isnan(f)) continue;
        ck_assert_msg(wb_amp_to_half(f) == wb_float_to_half(f), "%a: 0x%04x, publish gives 0x%04x", f,
                      wb_amp_to_half(f), wb_float_to_half(f));
    }
}
END_TEST

START_TEST(test_every_value_round_trips) {
    for (uint32_t h = 0; h <= 0xffff; h++) {
        bool nan_half = (h & 0x7c00) == 0x7c00 && (h & 0x3ff), nan_bf = (h & 0x7f80) == 0x7f80 && (h & 0x7f);
        float vh = wb_amp_from_half((uint16_t)h), vb = wb_amp_from_bf16((uint16_t)h);
        ck_assert_msg(nan_half ? isnan(vh) : wb_amp_to_half(vh) == h, "half 0x%04x -> %a -> 0x%04x", h, vh,
                      wb_amp_to_half(vh));
        ck_assert_msg(nan_bf ? isnan(vb) : wb_amp_to_bf16(vb) == h, "bf16 0x%04x -> %a -> 0x%04x", h, vb,
                      wb_amp_to_bf16(vb));
    }
    ck_assert_float_eq(wb_amp_from_half(0x7bff), 65504.0f);
    ck_assert_float_eq(wb_amp_from_half(0x0001), 0x1p-24f);
    ck_assert_uint_eq(wb_amp_to_bf16(NAN) & 0x7fc0, 0x7fc0);
}
END_TEST

static Suite *cuda_math_amp_suite(void) {
    Suite *s = suite_create("cuda_math_amp");
    TCase *tc = tcase_create("conversions");
    tcase_add_test(tc, test_rounds_as_torch);
    tcase_add_test(tc, test_half_matches_publish);
    tcase_add_test(tc, test_every_value_round_trips);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return wbt_run_suite(cuda_math_amp_suite()); }
