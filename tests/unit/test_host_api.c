/* The host table a plugin gets: this minor's version and size, and every
 * entry filled, so a function appended to host.h but not wired into
 * core/plugin/host_api.c fails here rather than as a NULL call in a plugin. */
#include <stddef.h>
#include <workbench/host.h>
#include "wbtest.h"

START_TEST(every_entry_is_filled) {
    const wb_host_api *h = wb_host_api_table();
    ck_assert_uint_eq(h->struct_size, sizeof(wb_host_api));
    ck_assert_uint_eq(h->abi_major, WB_ABI_MAJOR);
    ck_assert_uint_eq(h->abi_minor, WB_ABI_MINOR);
    /* After the three version fields the table is function pointers only. */
    size_t first = offsetof(wb_host_api, set_error);
    ck_assert_uint_eq((sizeof(wb_host_api) - first) % sizeof(void (*)(void)), 0);
    int n = 0;
    for (size_t off = first; off < sizeof(wb_host_api); off += sizeof(void (*)(void)), n++) {
        void (*fn)(void);
        memcpy(&fn, (const char *)h + off, sizeof fn);
        ck_assert_msg(fn != NULL, "host table entry %d (byte offset %zu) is NULL", n, off);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("host_api");
    TCase *tc = tcase_create("host_api");
    tcase_add_test(tc, every_entry_is_filled);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
