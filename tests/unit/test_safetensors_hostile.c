/* The safetensors reader refuses what the format does not allow, each with
 * a message naming the fault; every input is generated here. The writer's
 * files read back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "io/safetensors.h"
#include "wbtest.h"

/* A file image: the 8-byte length, the header, then data_bytes of data. */
static unsigned char *image_of(const char *header, size_t data_bytes, size_t *size) {
    size_t hlen = strlen(header);
    *size = 8 + hlen + data_bytes;
    unsigned char *b = calloc(1, *size);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(b + 8, header, hlen);
    for (size_t i = 0; i < data_bytes; i++) b[8 + hlen + i] = (unsigned char)i;
    return b;
}

static void expect_refused(const char *header, size_t data_bytes, const char *fragment) {
    size_t size;
    unsigned char *b = image_of(header, data_bytes, &size);
    wb_st_file f;
    char err[1024] = "";
    wb_status st = wb_st_parse(b, size, "crafted.safetensors", &f, err, sizeof err);
    free(b);
    ck_assert_msg(st != WB_OK, "accepted %s", header);
    ck_assert_msg(strstr(err, "crafted.safetensors: ") == err && strstr(err, fragment),
                  "for %s: message '%s' lacks '%s'", header, err, fragment);
    ck_assert_msg(f.count == 0 && f.tensors == NULL && f.data == NULL, "a refused file is left empty");
    printf("refused: %s\n", err);
}

START_TEST(test_writer_output_reads_back) {
    char path[4096], err[1024];
    snprintf(path, sizeof path, "%s/test_st_hostile_%d.safetensors", WB_BINARY_DIR, (int)getpid());
    float a[6] = {1, 2, 3, 4, 5, 6}, b[1] = {7};
    int64_t sa[2] = {2, 3}, sb[1] = {1};
    wb_st_writer *w = wb_st_writer_new();
    wb_st_writer_add(w, "b", 1, sb, b);
    wb_st_writer_add(w, "a", 2, sa, a);
    wb_st_writer_add(w, "empty", 1, (int64_t[]){0}, NULL);
    wb_st_writer_meta(w, "format", "test");
    ck_assert_msg(wb_st_writer_save(w, path, err, sizeof err) == WB_OK, "%s", err);
    wb_st_writer_free(w);
    wb_st_file f;
    ck_assert_msg(wb_st_read(path, &f, err, sizeof err) == WB_OK, "%s", err);
    unlink(path);
    ck_assert_int_eq(f.count, 3);
    const wb_st_tensor *ta = wb_st_find(&f, "a"), *tb = wb_st_find(&f, "b");
    ck_assert(ta && tb && wb_st_find(&f, "empty") && !wb_st_find(&f, "c"));
    ck_assert(ta->numel == 6 && ta->shape[1] == 3 && memcmp(ta->data, a, sizeof a) == 0 && tb->data[0] == 7.0f);
    ck_assert_str_eq(wb_st_meta(&f, "format"), "test");
    wb_st_free(&f);
}
END_TEST

START_TEST(test_header_framing) {
    size_t size;
    wb_st_file f;
    char err[1024];
    unsigned char *b = image_of("{}", 0, &size);
    ck_assert_msg(wb_st_parse(b, size, "empty.safetensors", &f, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(f.count, 0);
    wb_st_free(&f);
    b[0] = 200; /* header length past the end of the file */
    ck_assert(wb_st_parse(b, size, "x", &f, err, sizeof err) != WB_OK && strstr(err, "exceeds the file"));
    ck_assert(wb_st_parse(b, 5, "x", &f, err, sizeof err) != WB_OK && strstr(err, "shorter than the 8-byte"));
    free(b);
    b = image_of("{}", 0, &size);
    b[7] = 1; /* 2^56 */
    ck_assert(wb_st_parse(b, size, "x", &f, err, sizeof err) != WB_OK && strstr(err, "limit of 16 MiB"));
    free(b);
    expect_refused("[]", 0, "does not start with '{'");
    expect_refused("{\"a\": ", 0, "does not parse");
    expect_refused("{}   x", 0, "bytes after its JSON object");
    expect_refused("{}", 4, "the tensors hold 0 bytes but the file has 4 bytes of data");
}
END_TEST

START_TEST(test_metadata_rules) {
    /* Twice: the old reader wrote past its key array here. */
    expect_refused("{\"__metadata__\": {\"a\": \"1\"}, \"__metadata__\": {\"b\": \"2\", \"c\": \"3\"}}", 0,
                   "__metadata__ appears twice");
    expect_refused("{\"__metadata__\": {\"a\": \"1\", \"a\": \"2\"}}", 0, "__metadata__.a appears twice");
    expect_refused("{\"__metadata__\": {\"iteration\": 5}}", 0, "__metadata__.iteration is not a string");
    expect_refused("{\"__metadata__\": [\"a\"]}", 0, "__metadata__ is not an object");
}
END_TEST

START_TEST(test_tensor_entries) {
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                   " \"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8,
                   "tensor 't' appears twice");
    expect_refused("{\"t\": {\"dtype\": \"F33\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "unknown dtype");
    expect_refused("{\"t\": {\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8,
                   "has dtype F64; workbench reads F32, F16 and BF16");
    expect_refused("{\"t\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8,
                   "do not hold its 2 elements of 2 bytes");
    expect_refused("{\"t\": {\"dtype\": \"BF16\", \"shape\": [2147483648, 2147483648], \"data_offsets\": [0, 0]}}",
                   0, "more than 2^63 bytes");
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4, "has no 'data_offsets'");
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
                   "has 'dtype' twice");
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4], \"x\": 1}}", 4,
                   "unknown field 'x'");
    expect_refused("{\"t\": 3}", 0, "is not an object");
}
END_TEST

START_TEST(test_shapes_must_be_exact_and_fit) {
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 10]}}", 10,
                   "dimension 0 is not a non-negative integer");
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [1e300], \"data_offsets\": [0, 4]}}", 4,
                   "dimension 0 is not a non-negative integer");
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [1, -1], \"data_offsets\": [0, 4]}}", 4,
                   "dimension 1 is not a non-negative integer");
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [\"1\"], \"data_offsets\": [0, 4]}}", 4,
                   "dimension 0 is not");
    /* 2^32 * 2^32 wraps to 0 in int64: a shape chosen to match empty offsets. */
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 0]}}",
                   0, "more than 2^63 elements");
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904], \"data_offsets\": [0, 0]}}", 0,
                   "dimension 0 is not");
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [2305843009213693952, 4], \"data_offsets\": [0, 0]}}", 0,
                   "dimension 0 is not");
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [1048576, 1048576, 1048576, 8], "
                   "\"data_offsets\": [0, 0]}}", 0, "more than 2^63");
    expect_refused("{\"t\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 4]}}", 4,
                   "at most");
}
END_TEST

START_TEST(test_offsets_must_tile_the_data) {
    const char *overlap = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                          " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}";
    expect_refused(overlap, 12, "tensor 'b' (bytes 4..12) overlaps the tensor before it");
    const char *gap = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                      " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [12, 20]}}";
    expect_refused(gap, 20, "4 unused bytes before tensor 'b'");
    const char *late = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}";
    expect_refused(late, 8, "4 unused bytes before tensor 'a'");
    const char *past = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}";
    expect_refused(past, 4, "the tensors hold 8 bytes but the file has 4");
    expect_refused(past, 12, "the tensors hold 8 bytes but the file has 12");
    expect_refused("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4,
                   "do not hold its 2 elements");
    expect_refused("{\"a\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 0]}}", 0,
                   "do not hold its 0 elements");
    expect_refused("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0.5, 4.5]}}", 8,
                   "two non-negative integers");
    /* Out of order in the header but tiling in offset order is the format. */
    size_t size;
    unsigned char *b = image_of("{\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]},"
                                " \"e\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 4]},"
                                " \"a\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}",
                                8, &size);
    wb_st_file f;
    char err[1024];
    ck_assert_msg(wb_st_parse(b, size, "x", &f, err, sizeof err) == WB_OK, "%s", err);
    ck_assert(f.count == 3 && wb_st_find(&f, "a")->numel == 1 && (unsigned char *)wb_st_find(&f, "b")->data == f.data + 4);
    wb_st_free(&f);
    free(b);
}
END_TEST

START_TEST(test_only_regular_files_are_read) {
    char dir[4096], fifo[4200], err[1024];
    snprintf(dir, sizeof dir, "%s/test_st_hostile_dir_%d", WB_BINARY_DIR, (int)getpid());
    ck_assert(mkdir(dir, 0755) == 0);
    wb_st_file f;
    ck_assert(wb_st_read(dir, &f, err, sizeof err) != WB_OK);
    ck_assert_msg(strstr(err, "is a directory; expected a regular file"), "%s", err);
    snprintf(fifo, sizeof fifo, "%s/pipe.safetensors", dir);
    ck_assert(mkfifo(fifo, 0600) == 0);
    /* No writer: a blocking open would never return. */
    ck_assert(wb_st_read(fifo, &f, err, sizeof err) != WB_OK);
    ck_assert_msg(strstr(err, "is a FIFO (named pipe)"), "%s", err);
    unlink(fifo);
    rmdir(dir);
}
END_TEST

int main(void) {
    Suite *s = suite_create("safetensors_hostile");
    TCase *t = tcase_create("reader");
    tcase_add_test(t, test_writer_output_reads_back);
    tcase_add_test(t, test_header_framing);
    tcase_add_test(t, test_metadata_rules);
    tcase_add_test(t, test_tensor_entries);
    tcase_add_test(t, test_shapes_must_be_exact_and_fit);
    tcase_add_test(t, test_offsets_must_tile_the_data);
    tcase_add_test(t, test_only_regular_files_are_read);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
