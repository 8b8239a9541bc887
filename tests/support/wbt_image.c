#include "wbt_image.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data/image.h"

uint8_t *wbt_read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n);
    ck_assert_uint_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

const char *wbt_write_fixture(const char *dir, const char *name, const uint8_t *bytes, size_t n) {
    static char path[512];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (n) ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
    return path;
}

void wbt_expect_load_error(const char *path, const char *expect) {
    wb_image img;
    char err[512] = "";
    wb_status st = wb_image_load_file(path, 0, &img, err, sizeof err);
    printf("corrupt %-28s -> %s\n", strrchr(path, '/') + 1, err);
    ck_assert_msg(st != WB_OK, "%s decoded although corrupt", path);
    ck_assert_ptr_null(img.rgb);
    ck_assert_msg(strstr(err, expect) != NULL, "%s: message '%s' lacks '%s'", path, err, expect);
    ck_assert_msg(strstr(err, path) != NULL, "message '%s' does not name the file", err);
}
