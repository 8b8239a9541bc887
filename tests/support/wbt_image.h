/* Helpers of the image decoder tests: whole files in and out, and the
 * refusal every corrupt image must get. */
#ifndef WB_TEST_WBT_IMAGE_H
#define WB_TEST_WBT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* The whole file (malloc'ed; the test frees it); fails the test when unreadable. */
uint8_t *wbt_read_all(const char *path, size_t *n);
/* Writes bytes to dir/name (dir made when missing) and returns that path, valid
 * until the next call. */
const char *wbt_write_fixture(const char *dir, const char *name, const uint8_t *bytes, size_t n);
/* Loads path and expects a refusal whose message holds `expect` and the path. */
void wbt_expect_load_error(const char *path, const char *expect);

#endif
