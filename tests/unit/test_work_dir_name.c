/* work_dir templates (core/app/work_dir.c): {n} numbers runs as YOLOv5's
 * increment_path (exp, exp2, ...: one more than the highest taken, gaps left),
 * a resumed run takes the highest; {date} and {time}; refusals name the
 * placeholder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "app/work_dir.h"
#include "wbtest.h"

static char g_root[256];

static void make(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_root, name);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

/* The name tmpl (under the scratch root) gives, checked against want (under it too). */
static void expect_name(const char *tmpl, int resumed, const char *want) {
    char t[512], got[WB_WORK_DIR_MAX], err[512] = "", w[512];
    snprintf(t, sizeof t, "%s/%s", g_root, tmpl);
    snprintf(w, sizeof w, "%s/%s", g_root, want);
    ck_assert_msg(wb_work_dir_name(t, resumed, got, sizeof got, err, sizeof err) == 0, "%s: %s", tmpl, err);
    ck_assert_str_eq(got, w);
}

static void setup(void) {
    snprintf(g_root, sizeof g_root, "/tmp/wb_test_work_dir_name_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_root));
}

static void teardown(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_run_numbers_as_yolov5) {
    expect_name("exp{n}", 0, "exp");
    expect_name("exp{n}", 1, "exp"); /* nothing to resume yet: the first name */
    make("exp");
    expect_name("exp{n}", 0, "exp2");
    expect_name("exp{n}", 1, "exp");
    make("exp3"); /* a gap stays a gap: the next is one more than the highest */
    expect_name("exp{n}", 0, "exp4");
    expect_name("exp{n}", 1, "exp3");
    expect_name("runs_{n}/a", 0, "runs_/a");
    expect_name("plain", 0, "plain");
}
END_TEST

START_TEST(test_date_and_time) {
    char t[512], got[WB_WORK_DIR_MAX], err[256], before[16], after[16];
    time_t now = time(NULL);
    strftime(before, sizeof before, "%Y%m%d", localtime(&now));
    snprintf(t, sizeof t, "%s/{date}_{time}", g_root);
    ck_assert_int_eq(wb_work_dir_name(t, 0, got, sizeof got, err, sizeof err), 0);
    now = time(NULL);
    strftime(after, sizeof after, "%Y%m%d", localtime(&now));
    const char *leaf = got + strlen(g_root) + 1;
    ck_assert_msg(strlen(leaf) == 15 && leaf[8] == '_', "%s", leaf);
    ck_assert_msg(strncmp(leaf, before, 8) == 0 || strncmp(leaf, after, 8) == 0, "%s", leaf);
    for (int i = 9; i < 15; i++) ck_assert(leaf[i] >= '0' && leaf[i] <= '9');
}
END_TEST

START_TEST(test_refusals_name_the_problem) {
    char got[WB_WORK_DIR_MAX], err[512];
    ck_assert_int_eq(wb_work_dir_name("runs/{name}", 0, got, sizeof got, err, sizeof err), 2);
    ck_assert_str_eq(err, "work_dir \"runs/{name}\": unknown placeholder {name}; work_dir may hold {date}, {time} "
                          "and one {n}");
    ck_assert_int_eq(wb_work_dir_name("runs/{n", 0, got, sizeof got, err, sizeof err), 2);
    ck_assert_str_eq(err, "work_dir \"runs/{n\": unknown placeholder {n; work_dir may hold {date}, {time} and one {n}");
    ck_assert_int_eq(wb_work_dir_name("{n}/exp{n}", 0, got, sizeof got, err, sizeof err), 2);
    ck_assert_str_eq(err, "work_dir \"{n}/exp{n}\" holds {n} 2 times; one run number is enough");
    /* 4000 characters and a date: past what a work dir may be (PATH_MAX less room for the file names) */
    char tmpl[4100];
    memset(tmpl, 'a', 4000);
    snprintf(tmpl + 4000, sizeof tmpl - 4000, "{date}");
    ck_assert_int_eq(wb_work_dir_name(tmpl, 0, got, sizeof got, err, sizeof err), 2);
    ck_assert_str_eq(err, "work_dir is 4008 characters long once its placeholders are filled in; with the file names "
                          "under it that passes the system's limit of 4096 (PATH_MAX); choose a shorter work_dir");
}
END_TEST

static Suite *work_dir_name_suite(void) {
    Suite *s = suite_create("work_dir_name");
    TCase *tc = tcase_create("templates");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_run_numbers_as_yolov5);
    tcase_add_test(tc, test_date_and_time);
    tcase_add_test(tc, test_refusals_name_the_problem);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return wbt_run_suite(work_dir_name_suite()); }
