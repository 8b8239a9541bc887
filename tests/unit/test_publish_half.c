/* publish --fp16's float32 -> IEEE binary16 conversion: values whose halves
 * are known (the largest half, ties to even at 1 + 2^-11 and in the
 * subnormals, overflow, signed zero, NaN), then 2^20 random bit patterns
 * against the CPU's own conversion (F16C's vcvtps2ph, round to nearest even)
 * where the build has it. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "app/publish.h"
#include "wbtest.h"
#ifdef __F16C__
#include <immintrin.h>
#endif

START_TEST(test_known_halves) {
    static const struct {
        float f;
        unsigned short h;
    } cases[] = {
        {1.0f, 0x3c00},          {-2.0f, 0xc000},         {0.1f, 0x2e66},         {65504.0f, 0x7bff},
        {65519.99f, 0x7bff},     {65520.0f, 0x7c00},      {1e10f, 0x7c00},        {-1e10f, 0xfc00},
        {0x1p-14f, 0x0400},      {0x1p-24f, 0x0001},      {0x1p-25f, 0x0000},     {0x3p-25f, 0x0002},
        {0x1.002p0f, 0x3c00},    {0x1.006p0f, 0x3c02},    {0x1.ffep-15f, 0x0400}, {0.0f, 0x0000},
        {-0.0f, 0x8000},         {INFINITY, 0x7c00},      {-INFINITY, 0xfc00},    {0x1.ffcp15f, 0x7bff},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ck_assert_msg(wb_float_to_half(cases[i].f) == cases[i].h, "%a: 0x%04x, expected 0x%04x", cases[i].f,
                      wb_float_to_half(cases[i].f), cases[i].h);
    ck_assert_uint_eq(wb_float_to_half(NAN) & 0x7e00, 0x7e00);
}
END_TEST

START_TEST(test_matches_the_cpu) {
#ifdef __F16C__
    uint64_t state = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < (1 << 20); i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        uint32_t bits = (uint32_t)(state >> 32);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (isnan(f)) continue;
        unsigned short want = (unsigned short)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
        if (wb_float_to_half(f) != want)
            ck_abort_msg("%a: 0x%04x, the CPU gives 0x%04x", f, wb_float_to_half(f), want);
    }
#else
    fprintf(stderr, "no F16C in this build: the known values above are the check\n");
#endif
}
END_TEST

static Suite *publish_half_suite(void) {
    Suite *s = suite_create("publish_half");
    TCase *tc = tcase_create("float_to_half");
    tcase_add_test(tc, test_known_halves);
    tcase_add_test(tc, test_matches_the_cpu);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return wbt_run_suite(publish_half_suite()); }
