/* The pieces of `workbench evolve` (tests/e2e/evolve.sh runs the whole): YOLOv5's mutation (gain-0 keys never
 * change, every factor within [0.3, 3], some factor always differs from 1), its bounds and 5-decimal rounding,
 * the starting values (hyp.scratch-low's, a hyp file's, a name evolution does not mutate refused with its line),
 * the parent drawn among the five fittest in proportion to YOLOv5's weights, evolve.csv written in YOLOv5's layout
 * and read back, and every kind of damaged evolve.csv refused with its line. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "app/evolve_csv.h"
#include "app/evolve_hyp.h"
#include "wbtest.h"

#define TMP WB_BINARY_DIR "/test_evolve_tmp"

static const char *write_file(const char *name, const char *text) {
    static char path[512];
    mkdir(TMP, 0755);
    snprintf(path, sizeof path, "%s/%s", TMP, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int key(const char *name) {
    for (int k = 0; k < WB_EVOLVE_N_HYP; k++)
        if (!strcmp(wb_evolve_keys[k].name, name)) return k;
    ck_abort_msg("no key %s", name);
    return -1;
}

START_TEST(test_mutation_as_yolov5) {
    double parent[WB_EVOLVE_N_HYP], child[WB_EVOLVE_N_HYP];
    char err[512];
    ck_assert_int_eq(wb_evolve_hyp_start(NULL, parent, err, sizeof err), 0);
    for (int k = 0; k < WB_EVOLVE_N_HYP; k++) parent[k] = 1.0; /* factors show directly */
    uint64_t rng = 1;
    int changed[WB_EVOLVE_N_HYP] = {0};
    for (int t = 0; t < 2000; t++) {
        wb_evolve_mutate(parent, child, &rng);
        bool any = false;
        for (int k = 0; k < WB_EVOLVE_N_HYP; k++) {
            ck_assert(child[k] >= 0.3 && child[k] <= 3.0);
            if (wb_evolve_keys[k].gain == 0) ck_assert_double_eq(child[k], 1.0);
            any |= child[k] != 1.0;
            changed[k] += child[k] != 1.0;
        }
        ck_assert(any);
    }
    /* each key with a gain mutates with probability 0.8 */
    for (int k = 0; k < WB_EVOLVE_N_HYP; k++)
        if (wb_evolve_keys[k].gain > 0) ck_assert_msg(changed[k] > 1500 && changed[k] < 1700, "%s changed %d times",
                                                      wb_evolve_keys[k].name, changed[k]);
}
END_TEST

START_TEST(test_constrain_clips_and_rounds) {
    double h[WB_EVOLVE_N_HYP];
    char err[512];
    ck_assert_int_eq(wb_evolve_hyp_start(NULL, h, err, sizeof err), 0);
    h[key("lr0")] = 0.5, h[key("momentum")] = 0.1, h[key("anchor_t")] = 4.1234567, h[key("hsv_h")] = 0.0123449;
    wb_evolve_constrain(h);
    ck_assert_double_eq(h[key("lr0")], 0.1);
    ck_assert_double_eq(h[key("momentum")], 0.6);
    ck_assert_double_eq_tol(h[key("anchor_t")], 4.12346, 1e-12);
    ck_assert_double_eq_tol(h[key("hsv_h")], 0.01234, 1e-12);
}
END_TEST

START_TEST(test_start_values) {
    double h[WB_EVOLVE_N_HYP];
    char err[512];
    ck_assert_int_eq(wb_evolve_hyp_start(NULL, h, err, sizeof err), 0);
    ck_assert_double_eq(h[key("momentum")], 0.937);
    ck_assert_double_eq(h[key("anchors")], 3.0);
    ck_assert_int_eq(wb_evolve_hyp_start(write_file("a.yaml", "lr0: 0.02\nmosaic: 0.5\n"), h, err, sizeof err), 0);
    ck_assert_double_eq(h[key("lr0")], 0.02);
    ck_assert_double_eq(h[key("mosaic")], 0.5);
    ck_assert_double_eq(h[key("momentum")], 0.937);
    ck_assert_int_eq(wb_evolve_hyp_start(write_file("b.yaml", "lr0: 0.02\nlabel_smoothing: 0.1\n"), h, err,
                                         sizeof err), 2);
    ck_assert_msg(strstr(err, "b.yaml:2: 'label_smoothing' is not one of the hyperparameters"), "%s", err);
}
END_TEST

START_TEST(test_csv_round_trip) {
    const char *path = TMP "/evolve.csv";
    mkdir(TMP, 0755);
    remove(path);
    wb_evolve_rows rows;
    char err[1024];
    ck_assert_int_eq(wb_evolve_csv_read(path, &rows, err, sizeof err), 0); /* no file: no rows */
    ck_assert_int_eq(rows.n, 0);
    double row[WB_EVOLVE_N_COLS];
    for (int g = 0; g < 3; g++) {
        for (int c = 0; c < WB_EVOLVE_N_COLS; c++) row[c] = (c + 1) * 0.123456789 + g;
        ck_assert_int_eq(wb_evolve_csv_append(path, row, err, sizeof err), 0);
    }
    ck_assert_msg(wb_evolve_csv_read(path, &rows, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(rows.n, 3);
    for (int c = 0; c < WB_EVOLVE_N_COLS; c++) /* '%20.5g': five significant digits */
        ck_assert_double_eq_tol(rows.v[2][c], (c + 1) * 0.123456789 + 2, 5e-5 * ((c + 1) * 0.123456789 + 2));
    ck_assert_int_eq(wb_evolve_best(&rows), 2);
    ck_assert_double_eq_tol(wb_evolve_fitness(rows.v[0]), 0.1 * 0.37037 + 0.9 * 0.49383, 1e-9);
    wb_evolve_rows_free(&rows);
    FILE *f = fopen(path, "r");
    char header[2048];
    ck_assert_ptr_nonnull(fgets(header, sizeof header, f));
    fclose(f);
    ck_assert_msg(strncmp(header, "   metrics/precision,      metrics/recall,     metrics/mAP_0.5,metrics/mAP_0.5:0.95,",
                          84) == 0, "%s", header);
}
END_TEST

/* The five fittest of eight rows, drawn in proportion to fitness minus the lowest of them; the rest never. */
START_TEST(test_parent_selection_as_yolov5) {
    static const double map5095[8] = {0.1, 0.5, 0.2, 0.8, 0.3, 0.05, 0.7, 0.4};
    double v[8][WB_EVOLVE_N_COLS] = {{0}};
    for (int i = 0; i < 8; i++) v[i][3] = map5095[i]; /* fitness 0.9 x mAP@0.5:0.95 */
    wb_evolve_rows rows = {v, 8};
    int drawn[8] = {0};
    uint64_t rng = 3;
    for (int t = 0; t < 40000; t++) drawn[(const double(*)[WB_EVOLVE_N_COLS])wb_evolve_select_parent(&rows, &rng) - v]++;
    /* weights 0.9 x (0.8, 0.7, 0.5, 0.4, 0.3) - 0.27 = 0.45, 0.36, 0.18, 0.09, 0 (+1e-6) */
    static const struct { int row; double p; } expect[] = {{3, 0.45 / 1.08}, {6, 0.36 / 1.08}, {1, 0.18 / 1.08},
                                                          {7, 0.09 / 1.08}, {4, 0.0}, {0, 0.0}, {2, 0.0}, {5, 0.0}};
    for (int k = 0; k < 8; k++)
        ck_assert_msg(fabs(drawn[expect[k].row] / 40000.0 - expect[k].p) < 0.01, "row %d drawn %d times",
                      expect[k].row, drawn[expect[k].row]);
    wb_evolve_rows one = {v, 1};
    ck_assert_ptr_eq(wb_evolve_select_parent(&one, &rng), v[0]);
}
END_TEST

static void expect_refused(const char *name, const char *text, const char *fragment) {
    wb_evolve_rows rows;
    char err[1024];
    ck_assert_int_eq(wb_evolve_csv_read(write_file(name, text), &rows, err, sizeof err), -1);
    printf("%s -> %s\n", name, err);
    ck_assert_msg(strstr(err, fragment), "'%s' lacks '%s'", err, fragment);
}

START_TEST(test_damaged_csv_refused) {
    char header[2048] = "", line[2048] = "";
    size_t at = 0, lt = 0;
    for (int c = 0; c < WB_EVOLVE_N_COLS; c++) {
        const char *name = c < WB_EVOLVE_N_RESULTS ? wb_evolve_result_names[c]
                                                   : wb_evolve_keys[c - WB_EVOLVE_N_RESULTS].name;
        at += (size_t)snprintf(header + at, sizeof header - at, "%s%s", name, c + 1 < WB_EVOLVE_N_COLS ? "," : "\n");
        lt += (size_t)snprintf(line + lt, sizeof line - lt, "0.5%s", c + 1 < WB_EVOLVE_N_COLS ? "," : "\n");
    }
    char text[16384];
    expect_refused("other.csv", "a,b,c\n1,2,3\n", "other.csv:1: column 1 is 'a', expected 'metrics/precision'");
    snprintf(text, sizeof text, "%s%s0.5,0.5\n", header, line);
    expect_refused("short.csv", text, "short.csv:3: column 3 (metrics/mAP_0.5) is '(missing)', not a number");
    snprintf(text, sizeof text, "%s%.*sx%s", header, (int)strlen(line) - 4, line, "\n");
    expect_refused("word.csv", text, "word.csv:2: column 36 (anchors) is 'x', not a number");
    snprintf(text, sizeof text, "%s%.*s,1\n", header, (int)strlen(line) - 1, line);
    expect_refused("long.csv", text, "long.csv:2: more than the 36 columns");
    char huge[6000];
    memset(huge, '1', sizeof huge - 2);
    huge[sizeof huge - 2] = '\n', huge[sizeof huge - 1] = 0;
    snprintf(text, sizeof text, "%s%s", header, huge);
    expect_refused("huge.csv", text, "huge.csv:2: a line of more than 4096 characters, not a row");
    snprintf(text, sizeof text, "%s%s", header, line);
    wb_evolve_rows rows;
    char err[1024];
    ck_assert_int_eq(wb_evolve_csv_read(write_file("ok.csv", text), &rows, err, sizeof err), 0);
    ck_assert_int_eq(rows.n, 1);
    wb_evolve_rows_free(&rows);
}
END_TEST

int main(void) {
    Suite *s = suite_create("evolve");
    TCase *tc = tcase_create("evolve");
    tcase_add_test(tc, test_mutation_as_yolov5);
    tcase_add_test(tc, test_constrain_clips_and_rounds);
    tcase_add_test(tc, test_start_values);
    tcase_add_test(tc, test_csv_round_trip);
    tcase_add_test(tc, test_parent_selection_as_yolov5);
    tcase_add_test(tc, test_damaged_csv_refused);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
