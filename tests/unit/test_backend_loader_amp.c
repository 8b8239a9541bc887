/* The loader's amp and TF32 path against a module that has only the first
 * entry (a core newer than its module): amp = "none" without TF32 still
 * opens it through wb_backend_cuda_open_v1, without box kernels; bf16, fp16 or TF32 are refused
 * naming the missing v2 entry and what to do, before v1 is ever called. The
 * stand-in module is compiled here with the system's cc. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backends/backend_loader.h"
#include "wbtest.h"

static char g_module[64];

/* A module whose v1 entry hands out a backend named after the device it was
 * asked for (wb_backend begins with its name; the core copies the table as
 * far as a module without v3 has one, and reads only the name). */
static void build_v1_module(void) {
    char src[] = "/tmp/wb_test_loader_amp_XXXXXX.c";
    int fd = mkstemps(src, 2);
    ck_assert_int_ge(fd, 0);
    static const char code[] =
        "#include <stdio.h>\n"
        "typedef struct { const char *name; void *rest[64]; } head;\n"
        "static head g; static char n[32];\n"
        "const void *wb_backend_cuda_open_v1(int device, char *why, unsigned long size) {\n"
        "    (void)why; (void)size; snprintf(n, sizeof n, \"v1 on %d\", device); g.name = n; return &g; }\n";
    ck_assert_int_eq((int)write(fd, code, sizeof code - 1), (int)sizeof code - 1);
    close(fd);
    snprintf(g_module, sizeof g_module, "%.*s.so", (int)strlen(src) - 2, src);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cc -shared -fPIC -o %s %s", g_module, src);
    int rc = system(cmd);
    unlink(src);
    ck_assert_msg(rc == 0, "%s failed (%d)", cmd, rc);
    setenv("WB_CUDA_MODULE", g_module, 1);
}

START_TEST(test_v1_module_runs_fp32) {
    build_v1_module();
    char why[768] = "";
    const wb_backend *be = wb_backend_cuda_open_amp(3, "none", false, why, sizeof why);
    unlink(g_module);
    ck_assert_msg(be != NULL, "%s", why);
    ck_assert_str_eq(be->name, "v1 on 3");
    ck_assert_ptr_null(be->boxes); /* its table ends before the box family */
}
END_TEST

START_TEST(test_v1_module_refuses_amp_and_tf32) {
    build_v1_module();
    static const struct {
        const char *amp;
        bool tf32;
    } asks[] = {{"bf16", false}, {"fp16", false}, {"none", true}, {"bf16", true}};
    for (size_t i = 0; i < sizeof asks / sizeof *asks; i++) {
        char why[768] = "";
        ck_assert_ptr_null(wb_backend_cuda_open_amp(0, asks[i].amp, asks[i].tf32, why, sizeof why));
        ck_assert_msg(strstr(why, "the CUDA backend module predates amp and TF32 (it has no wb_backend_cuda_open_v2)"
                                  ": rebuild it with this workbench, or set amp = \"none\" and tf32 = false"),
                      "amp %s tf32 %d: %s", asks[i].amp, asks[i].tf32, why);
    }
    unlink(g_module);
}
END_TEST

int main(void) {
    Suite *s = suite_create("backend_loader_amp");
    TCase *t = tcase_create("v1_module");
    tcase_add_test(t, test_v1_module_runs_fp32);
    tcase_add_test(t, test_v1_module_refuses_amp_and_tf32);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
