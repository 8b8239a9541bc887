/* core/backends/backend_loader.c without a GPU: backend names, where the
 * CUDA module is looked for, and the reasons an open fails before any CUDA
 * code runs (no such file, not a shared object, not our module). */
#define _GNU_SOURCE /* dladdr */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backends/backend_loader.h"
#include "wbtest.h"

START_TEST(test_parse_cuda) {
    int device = -1;
    ck_assert(wb_backend_parse_cuda("cuda", &device) && device == 0);
    ck_assert(wb_backend_parse_cuda("cuda:0", &device) && device == 0);
    ck_assert(wb_backend_parse_cuda("cuda:7", &device) && device == 7);
    ck_assert(wb_backend_parse_cuda("cuda:15", &device) && device == 15);
    static const char *const bad[] = { "cpu", "auto", "cuda:", "cuda:x", "cuda:1x", "cuda:-1", "cuda: 1",
                                       "cuda:1024", "CUDA", "cuda0", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        device = -1;
        ck_assert_msg(!wb_backend_parse_cuda(bad[i], &device), "'%s' parsed as cuda:%d", bad[i], device);
    }
}
END_TEST

START_TEST(test_module_path_from_env) {
    char path[4200];
    setenv("WB_CUDA_MODULE", "/nonexistent/libwb_backend_cuda.so", 1);
    ck_assert(!wb_backend_cuda_module_path(path, sizeof path));
    ck_assert_str_eq(path, "/nonexistent/libwb_backend_cuda.so");
    char why[768];
    ck_assert_ptr_null(wb_backend_cuda_open(0, why, sizeof why));
    ck_assert_msg(strstr(why, "this build has no CUDA backend module (/nonexistent/libwb_backend_cuda.so not found"),
                  "%s", why);
}
END_TEST

/* A file that is no shared object: dlopen's own words reach the message. */
START_TEST(test_open_not_a_module) {
    char file[] = "/tmp/wb_test_backend_loader_XXXXXX";
    int fd = mkstemp(file);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq((int)write(fd, "not ELF\n", 8), 8);
    close(fd);
    setenv("WB_CUDA_MODULE", file, 1);
    char why[768];
    ck_assert_ptr_null(wb_backend_cuda_open(0, why, sizeof why));
    unlink(file);
    ck_assert_msg(strstr(why, "the CUDA backend module cannot be loaded: ") && strstr(why, file), "%s", why);
    ck_assert_msg(strstr(why, "invalid ELF header") || strstr(why, "file too short"), "%s", why);
}
END_TEST

/* A shared object without the entry point: this process's own C library. */
START_TEST(test_open_without_entry) {
    Dl_info libc;
    ck_assert(dladdr((void *)printf, &libc) && libc.dli_fname);
    setenv("WB_CUDA_MODULE", libc.dli_fname, 1);
    char why[768];
    ck_assert_ptr_null(wb_backend_cuda_open(0, why, sizeof why));
    ck_assert_msg(strstr(why, "has no wb_backend_cuda_open_v1: not a CUDA backend module of this workbench version"),
                  "%s", why);
}
END_TEST

int main(void) {
    Suite *s = suite_create("backend_loader");
    TCase *t = tcase_create("loader");
    tcase_add_test(t, test_parse_cuda);
    tcase_add_test(t, test_module_path_from_env);
    tcase_add_test(t, test_open_not_a_module);
    tcase_add_test(t, test_open_without_entry);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
