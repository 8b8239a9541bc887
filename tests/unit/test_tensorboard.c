/* TensorBoard event files' container: CRC32C against the published iSCSI
 * test vectors (RFC 3720, B.4) and the check value of "123456789", and the
 * TFRecord framing byte by byte. Reading whole event files back with
 * TensorBoard's own reader is tests/e2e/tensorboard.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tblog/tfrecord.h"
#include "wbtest.h"

START_TEST(test_crc32c_published_vectors) {
    unsigned char buf[32];
    memset(buf, 0, sizeof buf);
    ck_assert_uint_eq(wb_crc32c(buf, 32), 0x8a9136aau);
    memset(buf, 0xff, sizeof buf);
    ck_assert_uint_eq(wb_crc32c(buf, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)i;
    ck_assert_uint_eq(wb_crc32c(buf, 32), 0x46dd794eu);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)(31 - i);
    ck_assert_uint_eq(wb_crc32c(buf, 32), 0x113fdb5cu);
    ck_assert_uint_eq(wb_crc32c("123456789", 9), 0xe3069283u);
    ck_assert_uint_eq(wb_crc32c("", 0), 0u);
}
END_TEST

/* TFRecord's mask is a rotation right by 15 bits plus 0xa282ead8: undoing it gives the CRC back. */
START_TEST(test_masked_crc_undoes_to_crc) {
    const char *s = "brain.Event:2";
    uint32_t crc = wb_crc32c(s, strlen(s)), masked = wb_crc32c_masked(s, strlen(s));
    uint32_t rot = masked - 0xa282ead8u;
    ck_assert_uint_ne(masked, crc);
    ck_assert_uint_eq((rot >> 17) | (rot << 15), crc);
}
END_TEST

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

START_TEST(test_tfrecord_framing) {
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    const char data[] = "an event";
    size_t len = sizeof data - 1;
    ck_assert_int_eq(wb_tfrecord_write(f, data, len), 0);
    ck_assert_int_eq(wb_tfrecord_write(f, "", 0), 0);
    unsigned char got[64];
    rewind(f);
    size_t n = fread(got, 1, sizeof got, f);
    fclose(f);
    ck_assert_uint_eq(n, (12 + len + 4) + (12 + 0 + 4));
    /* length as little-endian uint64, its masked CRC, the data, the data's masked CRC */
    ck_assert_uint_eq(le32(got), len);
    ck_assert_uint_eq(le32(got + 4), 0);
    ck_assert_uint_eq(le32(got + 8), wb_crc32c_masked(got, 8));
    ck_assert_mem_eq(got + 12, data, len);
    ck_assert_uint_eq(le32(got + 12 + len), wb_crc32c_masked(data, len));
    const unsigned char *empty = got + 16 + len;
    ck_assert_uint_eq(le32(empty) | le32(empty + 4), 0);
    ck_assert_uint_eq(le32(empty + 12), wb_crc32c_masked("", 0));
}
END_TEST

static Suite *tensorboard_suite(void) {
    Suite *s = suite_create("tensorboard");
    TCase *tc = tcase_create("tfrecord");
    tcase_add_test(tc, test_crc32c_published_vectors);
    tcase_add_test(tc, test_masked_crc_undoes_to_crc);
    tcase_add_test(tc, test_tfrecord_framing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return wbt_run_suite(tensorboard_suite()); }
