/* The example plugins of examples/plugins/ (built from their sources as
 * fixtures): tp_varifocal_loss against mmdetection's varifocal loss computed
 * by torch (tests/parity/gen_example_plugins.py) for every reduction, values
 * and d/d pred; tp_csv's reading of a CSV file (grouping, sorting, image ids,
 * classes, data_root) and its messages for broken lines. Training with them
 * is tests/out_of_tree/run.sh.
 *
 * Tolerances against the float64 references: the plugin's forward is a
 * chain of about a dozen float32 ops (sigmoid, sub, abs, pow, comparisons,
 * mul, bce, reduction, scale), each rounding once (6e-8 relative); backward
 * runs that chain in reverse. Hence values rtol 2e-6 / atol 1e-7 and
 * gradients rtol 4e-6 / atol 2e-7 (inputs of order 1, weights below 0.2). */
#define _POSIX_C_SOURCE 200809L /* mkstemp, mkdtemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <workbench/ops.h>
#include "app/experiment.h"
#include "config/config.h"
#include "wbtest.h"

#define VAL_ATOL 1e-7
#define VAL_RTOL 2e-6
#define GRAD_ATOL 2e-7
#define GRAD_RTOL 4e-6

static wb_registry *g_reg;

/* The two examples, built as fixtures; false (said) when they are missing. */
static bool load_examples(void) {
    static const char *const files[] = {WB_FIXTURE_DIR "/examples/tp_varifocal_loss.so",
                                        WB_FIXTURE_DIR "/examples/tp_csv.so"};
    g_reg = wb_registry_new();
    for (int i = 0; i < 2; i++)
        if (wb_registry_load_file(g_reg, files[i], "test") != WB_OK) {
            fprintf(stderr, "cannot load %s: %s\n", files[i], wb_registry_error(g_reg));
            return false;
        }
    return true;
}

/* `section = { <body> };` validated against the module's schema, as `workbench run` does. */
static wb_config *module_config(const char *body, int kind) {
    char path[] = "/tmp/wb_examples_XXXXXX", text[2048];
    int n = snprintf(text, sizeof text, "section = { %s };\n", body);
    int fd = mkstemp(path);
    ck_assert(fd >= 0 && n < (int)sizeof text);
    ck_assert(write(fd, text, (size_t)n) == n);
    close(fd);
    wb_config *cfg = wb_config_new();
    wb_module_lookup lk = wb_registry_module_lookup(g_reg);
    ck_assert(wb_config_load(cfg, path) == 0);
    unlink(path);
    wb_config_validate_module(cfg, "section", kind, &lk);
    if (wb_config_error_count(cfg) > 0) wb_config_print_errors(cfg, stderr);
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    return cfg;
}

static const char *const CASES[] = {"iou", "binary"};
static const char *const REDUCTIONS[] = {"none", "sum", "mean"};

START_TEST(varifocal_matches_torch) {
    char file[64], body[512], what[128], key[32];
    snprintf(file, sizeof file, "example_vfl_%s", CASES[_i]);
    wb_st_file f;
    if (!wbt_parity_open(file, &f)) return;
    float upstream = (float)wbt_parity_attr(&f, "upstream");
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    e.s->find_module = wb_registry_find_module;
    e.s->find_user = g_reg;
    for (int r = 0; r < 3; r++) {
        snprintf(body, sizeof body, "%s reduction = \"%s\";", wb_st_meta(&f, "config"), REDUCTIONS[r]);
        wb_config *cfg = module_config(body, WB_KIND_LOSS);
        wb_submodule *m = WB_H(e.ctx)->submodule_create(e.ctx, wb_config_params(cfg, "section"), "loss_cls", NULL, 0);
        ck_assert_msg(m != NULL, "%s", e.c.msg);
        wb_config_free(cfg);
        wb_tensor *in[3] = {wbt_parity_input(&e, &f, "pred", true), wbt_parity_input(&e, &f, "target", false),
                            wbt_parity_input(&e, &f, "weight", false)};
        wb_tensor *out = NULL;
        ck_assert_msg(WB_H(e.ctx)->submodule_forward(e.ctx, m, in, 3, &out, 1) == WB_OK, "%s", e.c.msg);

        snprintf(key, sizeof key, "out_%s", REDUCTIONS[r]);
        snprintf(what, sizeof what, "varifocal %s %s value", CASES[_i], REDUCTIONS[r]);
        const float *want = wbt_parity_tensor(&f, key, out->numel);
        wbt_assert_close(what, out->data, want, out->numel, VAL_ATOL, VAL_RTOL);
        double val = wbt_tol_ratio(out->data, want, out->numel, VAL_ATOL, VAL_RTOL, NULL);

        float *gy = wb_grad_begin(&e.c, out);
        if (r == 0) memcpy(gy, wbt_parity_tensor(&f, "gy_none", out->numel), (size_t)out->numel * sizeof(float));
        else gy[0] = upstream;
        wb_grad_end(&e.c, out, gy);
        ck_assert_msg(wb_tape_backward(&e.c) == WB_OK, "backward: %s", e.c.msg);
        snprintf(key, sizeof key, "gpred_%s", REDUCTIONS[r]);
        snprintf(what, sizeof what, "varifocal %s %s d/d pred", CASES[_i], REDUCTIONS[r]);
        want = wbt_parity_tensor(&f, key, in[0]->numel);
        wbt_assert_close(what, in[0]->grad, want, in[0]->numel, GRAD_ATOL, GRAD_RTOL);
        printf("  varifocal %-7s %-5s worst error / tolerance: value %.3f, gradient %.3f\n", CASES[_i],
               REDUCTIONS[r], val, wbt_tol_ratio(in[0]->grad, want, in[0]->numel, GRAD_ATOL, GRAD_RTOL, NULL));
        wbt_env_reset(&e);
    }
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

/* A scratch folder with `name` holding text; returns the folder. */
static void write_text(const char *dir, const char *name, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Opens tp_csv on `body`; returns the status, the dataset in *ds and any message in msg. */
static wb_status open_csv(wbt_env *e, const char *body, void **ds, const wb_dataset_vtable **vt) {
    wb_config *cfg = module_config(body, WB_KIND_DATASET);
    *vt = wb_registry_find(g_reg, WB_KIND_DATASET, "tp_csv")->dataset;
    wb_status st = (*vt)->open(e->ctx, wb_config_params(cfg, "section"), ds);
    wb_config_free(cfg);
    return st;
}

START_TEST(csv_reads_groups_and_names) {
    char dir[] = "/tmp/wb_csv_XXXXXX", body[1024], want[1200];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* Lines of one image apart, an image without objects, a header, a blank line. */
    write_text(dir, "boxes.csv",
               "image,x1,y1,x2,y2,class\n"
               "b.jpg,1,2,30,40,dog\n"
               "a.jpg,5,6,7,8,cat\n"
               "empty.jpg,,,,,\n"
               "\n"
               "b.jpg, 10.5 ,20,31,41 ,cat\n");
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    void *ds = NULL;
    const wb_dataset_vtable *vt;
    snprintf(body, sizeof body, "type = \"tp_csv\"; ann_file = \"boxes.csv\"; img_prefix = \"img\"; data_root = \"%s\";",
             dir);
    ck_assert_msg(open_csv(&e, body, &ds, &vt) == WB_OK, "%s", e.c.msg);
    ck_assert_int_eq(vt->length(ds), 3);
    ck_assert_int_eq(vt->num_classes(ds), 2); /* sorted: cat, dog */
    ck_assert_str_eq(vt->class_name(ds, 0), "cat");
    ck_assert_str_eq(vt->class_name(ds, 1), "dog");
    ck_assert_int_eq(vt->category_id(ds, 1), 2);
    static const char *const names[] = {"a.jpg", "b.jpg", "empty.jpg"};
    static const int counts[] = {1, 2, 0};
    for (int i = 0; i < 3; i++) {
        wb_sample s = {.struct_size = sizeof s};
        ck_assert_int_eq(vt->get(ds, e.ctx, i, &s), WB_OK);
        snprintf(want, sizeof want, "%s/img/%s", dir, names[i]);
        ck_assert_str_eq(s.image_path, want);
        ck_assert_int_eq(s.image_id, i);
        ck_assert_int_eq(s.num_boxes, counts[i]);
        if (i == 1) { /* b.jpg: its two lines in file order */
            const float expect[8] = {1, 2, 30, 40, 10.5f, 20, 31, 41};
            for (int k = 0; k < 8; k++) ck_assert_float_eq(s.boxes[k], expect[k]);
            ck_assert_int_eq(s.labels[0], 1);
            ck_assert_int_eq(s.labels[1], 0);
        }
        vt->release_sample(ds, &s);
    }
    vt->close(ds);

    /* `classes` fixes the labels; a class outside it is named with its line. */
    snprintf(body, sizeof body, "type = \"tp_csv\"; ann_file = \"%s/boxes.csv\"; classes = [\"dog\", \"cat\"];", dir);
    ck_assert_int_eq(open_csv(&e, body, &ds, &vt), WB_OK);
    wb_sample s = {.struct_size = sizeof s};
    ck_assert_int_eq(vt->get(ds, e.ctx, 0, &s), WB_OK);
    ck_assert_int_eq(s.labels[0], 1); /* a.jpg's cat */
    ck_assert_str_eq(s.image_path, "a.jpg"); /* no data_root, no img_prefix: as the file says */
    vt->release_sample(ds, &s);
    vt->close(ds);
    snprintf(body, sizeof body, "type = \"tp_csv\"; ann_file = \"%s/boxes.csv\"; classes = [\"dog\"];", dir);
    ck_assert_int_eq(open_csv(&e, body, &ds, &vt), WB_ERR_IO);
    snprintf(want, sizeof want, "tp_csv: %s/boxes.csv:3: class 'cat' is not one of `classes`", dir);
    ck_assert_str_eq(e.c.msg, want);
    wbt_env_free(&e);
    snprintf(want, sizeof want, "%s/boxes.csv", dir);
    unlink(want);
    rmdir(dir);
}
END_TEST

static const struct {
    const char *text, *message; /* message after "tp_csv: FILE:" */
} g_bad_lines[] = {
    {"a.jpg,1,2,3,4\n", "1: 5 fields, expected 6: image,x1,y1,x2,y2,class"},
    {"a.jpg,1,2,3,4,cat,extra\n", "1: 7 fields, expected 6: image,x1,y1,x2,y2,class"},
    {"a.jpg,1,2,3,4,cat\na.jpg,1,two,3,4,cat\n", "2: 'two' is not a number"},
    {"a.jpg,5,2,3,4,cat\n", "1: box 5,2,3,4 has no area (needs x2 > x1 and y2 > y1)"},
    {",1,2,3,4,cat\n", "1: no image name"},
    {"a.jpg,1,2,3,4,\n", "1: no class"},
};

START_TEST(csv_names_the_broken_line) {
    char dir[] = "/tmp/wb_csv_XXXXXX", body[1024], want[1200], file[512];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_text(dir, "bad.csv", g_bad_lines[_i].text);
    snprintf(file, sizeof file, "%s/bad.csv", dir);
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    void *ds = NULL;
    const wb_dataset_vtable *vt;
    snprintf(body, sizeof body, "type = \"tp_csv\"; ann_file = \"%s\";", file);
    ck_assert_int_eq(open_csv(&e, body, &ds, &vt), WB_ERR_IO);
    snprintf(want, sizeof want, "tp_csv: %s:%s", file, g_bad_lines[_i].message);
    ck_assert_str_eq(e.c.msg, want);
    wbt_env_free(&e);
    unlink(file);
    rmdir(dir);
}
END_TEST

int main(void) {
    if (!load_examples()) return 1;
    Suite *s = suite_create("example_plugins");
    TCase *t = tcase_create("examples");
    tcase_add_loop_test(t, varifocal_matches_torch, 0, 2);
    tcase_add_test(t, csv_reads_groups_and_names);
    tcase_add_loop_test(t, csv_names_the_broken_line, 0, (int)(sizeof g_bad_lines / sizeof g_bad_lines[0]));
    suite_add_tcase(s, t);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
