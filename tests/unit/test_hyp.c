/* --hyp: YOLOv5 hyp files read with libyaml (config/hyp_file) and mapped
 * onto an experiment (config/hyp_apply): every target, origins at the file's
 * lines, --set winning, refusals and warnings. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <workbench/module.h>
#include "config/config.h"
#include "config/hyp_apply.h"
#include "config/hyp_file.h"
#include "data/transforms.h"
#include "wbtest.h"

/* A head declaring YOLOv5's loss gains (as yolov5_head does), one without. */
static const wb_param_schema yolo_head_params[] = {
    WB_P_INT("num_classes", "80", 1, 100000, "classes"),
    WB_P_FLOAT("box", "0.05", 0, 100, "box gain"),
    WB_P_FLOAT("cls", "0.5", 0, 100, "cls gain"),
    WB_P_FLOAT("cls_pw", "1.0", 0, 100, "cls positive weight"),
    WB_P_FLOAT("obj", "1.0", 0, 100, "obj gain"),
    WB_P_FLOAT("obj_pw", "1.0", 0, 100, "obj positive weight"),
    WB_P_FLOAT("anchor_t", "4.0", 1, 100, "anchor ratio threshold"),
    WB_P_FLOAT("fl_gamma", "0.0", 0, 10, "focal gamma"),
    WB_PARAM_END,
};
static const wb_param_schema plain_head_params[] = { WB_P_INT("num_classes", "80", 1, 100000, "classes"),
                                                     WB_PARAM_END };
static const wb_param_schema no_params[] = { WB_PARAM_END };

#define DESC(kind_, name_, params_) { sizeof(wb_module_desc), kind_, name_, "a test " name_, 0, params_, NULL, NULL, NULL }
static const wb_module_desc fake_modules[] = {
    DESC(WB_KIND_BACKBONE, "tiny", no_params),
    DESC(WB_KIND_HEAD, "yolo_like", yolo_head_params),
    DESC(WB_KIND_HEAD, "plain_head", plain_head_params),
    DESC(WB_KIND_DATASET, "fake_ds", no_params),
};

static const wb_module_desc *fake_find(void *user, wb_module_kind kind, const char *type) {
    (void)user;
    for (size_t i = 0; i < sizeof fake_modules / sizeof fake_modules[0]; i++)
        if (fake_modules[i].kind == kind && strcmp(fake_modules[i].type_name, type) == 0) return &fake_modules[i];
    return NULL;
}

/* The real transform schemas: the hyp names must fit the real steps. */
static const wb_param_schema *real_transform(void *user, const char *type) {
    (void)user;
    return wb_transform_schema(type);
}

static const wb_module_lookup lookup = { fake_find, NULL, real_transform, NULL, NULL, NULL };

static char g_dir[] = "/tmp/wb_test_hyp.XXXXXX";

static const char *write_file(const char *name, const char *text) {
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", g_dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static const char *experiment(const char *head, const char *extra_steps) {
    char text[2048];
    snprintf(text, sizeof text,
             "model = { backbone = { type = \"tiny\"; }; head = { type = \"%s\"; num_classes = 3; }; };\n"
             "optimizer = { lr = 0.02; };\n"
             "data = { train = { dataset = { type = \"fake_ds\"; };\n"
             "  pipeline = ( { type = \"mosaic\"; size = [64, 64]; },\n"
             "               { type = \"random_affine\"; },\n"
             "               { type = \"yolo_hsv\"; },\n"
             "               { type = \"random_flip\"; prob = 0.25; }%s ); }; };\n",
             head, extra_steps);
    return write_file("exp.conf", text);
}

/* hyp.scratch-low.yaml's values, written here (the file is YOLOv5's, GPL). */
static const char scratch_low[] =
    "# a comment line\n"
    "lr0: 0.01  # initial learning rate\n"
    "lrf: 0.01\n"
    "momentum: 0.937\n"
    "weight_decay: 0.0005\n"
    "warmup_epochs: 3.0\n"
    "warmup_momentum: 0.8\n"
    "warmup_bias_lr: 0.1\n"
    "box: 0.05\n"
    "cls: 0.5\n"
    "cls_pw: 1.0\n"
    "obj: 1.0\n"
    "obj_pw: 1.0\n"
    "iou_t: 0.20\n"
    "anchor_t: 4.0\n"
    "# anchors: 3\n"
    "fl_gamma: 0.0\n"
    "hsv_h: 0.015\n"
    "hsv_s: 0.7\n"
    "hsv_v: 0.4\n"
    "degrees: 0.0\n"
    "translate: 0.1\n"
    "scale: 0.5\n"
    "shear: 0.0\n"
    "perspective: 0.0\n"
    "flipud: 0.0\n"
    "fliplr: 0.5\n"
    "mosaic: 1.0\n"
    "mixup: 0.0\n"
    "copy_paste: 0.0\n";

typedef struct applied {
    wb_config *cfg;
    char *warnings;
    size_t size;
    int errors;
} applied;

static applied apply(const char *exp, const char *hyp, const char *set) {
    applied a = { wb_config_new(), NULL, 0, 0 };
    ck_assert_ptr_nonnull(a.cfg);
    ck_assert_int_eq(wb_config_load(a.cfg, exp), 0);
    if (set) wb_config_override(a.cfg, set);
    FILE *warn = open_memstream(&a.warnings, &a.size);
    wb_hyp_apply(a.cfg, hyp, &lookup, warn);
    fclose(warn);
    a.errors = wb_config_validate(a.cfg, &lookup);
    if (a.errors) wb_config_print_errors(a.cfg, stderr);
    return a;
}

static void done(applied *a) {
    wb_config_free(a->cfg);
    free(a->warnings);
}

static double number_at(applied *a, const char *path) {
    config_setting_t *s = config_lookup(wb_config_tree(a->cfg), path);
    ck_assert_msg(s != NULL, "%s is not in the config", path);
    return config_setting_get_float(s);
}

/* The setting's origin "file:line". */
static void assert_origin(applied *a, const char *path, const char *hyp, unsigned line) {
    config_setting_t *s = config_lookup(wb_config_tree(a->cfg), path);
    ck_assert_ptr_nonnull(s);
    char want[512];
    snprintf(want, sizeof want, "hyp %s", hyp);
    ck_assert_str_eq(config_setting_source_file(s), want);
    ck_assert_uint_eq(config_setting_source_line(s), line);
}

START_TEST(scratch_low_maps_onto_optimizer_head_and_pipeline) {
    const char *hyp = write_file("hyp.scratch-low.yaml", scratch_low);
    applied a = apply(experiment("yolo_like", ""), hyp, NULL);
    ck_assert_int_eq(a.errors, 0);
    ck_assert_double_eq_tol(number_at(&a, "optimizer.lr"), 0.01, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "optimizer.momentum"), 0.937, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "optimizer.weight_decay"), 0.0005, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "schedule.lrf"), 0.01, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "model.head.box"), 0.05, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "model.head.anchor_t"), 4.0, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "data.train.pipeline.[0].prob"), 1.0, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "data.train.pipeline.[1].translate"), 0.1, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "data.train.pipeline.[1].scale"), 0.5, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "data.train.pipeline.[1].perspective"), 0.0, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "data.train.pipeline.[2].sgain"), 0.7, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "data.train.pipeline.[3].prob"), 0.5, 1e-15); /* fliplr over 0.25 */
    /* the line of each value is its origin, so validation errors point into the file */
    assert_origin(&a, "optimizer.lr", hyp, 2);
    assert_origin(&a, "model.head.fl_gamma", hyp, 17);
    assert_origin(&a, "data.train.pipeline.[2].hgain", hyp, 18);
    ck_assert_double_eq_tol(number_at(&a, "schedule.warmup_epochs"), 3.0, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "schedule.warmup_momentum"), 0.8, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "schedule.warmup_bias_lr"), 0.1, 1e-15);
    /* iou_t (unused by YOLOv5's training too) and the zero augmentations without a step are quiet */
    ck_assert_ptr_null(strstr(a.warnings, "iou_t"));
    ck_assert_str_eq(a.warnings, "");
    ck_assert_ptr_null(strstr(a.warnings, "flipud"));
    ck_assert_ptr_null(strstr(a.warnings, "mixup"));
    ck_assert_ptr_null(strstr(a.warnings, "copy_paste"));
    done(&a);
}
END_TEST

/* mosaic finds mosaic9 steps too */
START_TEST(mosaic_reaches_mosaic9) {
    const char *hyp = write_file("h.yaml", "mosaic: 0.7\n");
    applied a = apply(experiment("yolo_like", ", { type = \"mosaic9\"; size = [64, 64]; }"), hyp, NULL);
    ck_assert_int_eq(a.errors, 0);
    ck_assert_double_eq_tol(number_at(&a, "data.train.pipeline.[0].prob"), 0.7, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "data.train.pipeline.[4].prob"), 0.7, 1e-15);
    done(&a);
}
END_TEST

START_TEST(set_wins_over_the_file) {
    const char *hyp = write_file("h.yaml", "lr0: 0.01\nhsv_v: 0.3\n");
    applied a = apply(experiment("yolo_like", ""), hyp, "optimizer.lr=0.5");
    ck_assert_int_eq(a.errors, 0);
    ck_assert_double_eq_tol(number_at(&a, "optimizer.lr"), 0.5, 1e-15);
    ck_assert_double_eq_tol(number_at(&a, "data.train.pipeline.[2].vgain"), 0.3, 1e-15);
    done(&a);
}
END_TEST

START_TEST(keys_without_a_target_warn) {
    const char *hyp = write_file("h.yaml", "box: 0.05\nmixup: 0.2\nflipud: 0.5\ncopy_paste: 0.1\nfliplr: 0.5\n");
    applied a = apply(experiment("plain_head", ""), hyp, NULL);
    ck_assert_int_eq(a.errors, 0);
    ck_assert_ptr_nonnull(strstr(a.warnings, ":1: box: the head (type plain_head) has no parameter 'box'; ignored"));
    ck_assert_ptr_nonnull(strstr(a.warnings, ":2: mixup: data.train.pipeline has no mixup step; ignored"));
    ck_assert_ptr_null(strstr(a.warnings, "mosaic or mosaic9")); /* the experiment has a mosaic step */
    ck_assert_ptr_nonnull(
        strstr(a.warnings, ":3: flipud: data.train.pipeline has no random_flip step with direction vertical"));
    ck_assert_ptr_nonnull(strstr(a.warnings, ":4: copy_paste: copy-paste pastes segments"));
    ck_assert_ptr_null(strstr(a.warnings, "fliplr"));
    done(&a);
    /* with a vertical flip step, flipud finds it and fliplr leaves it alone */
    applied b = apply(experiment("plain_head", ", { type = \"random_flip\"; direction = \"vertical\"; }"), hyp, NULL);
    ck_assert_int_eq(b.errors, 0);
    ck_assert_double_eq_tol(number_at(&b, "data.train.pipeline.[4].prob"), 0.5, 1e-15);
    ck_assert_double_eq_tol(number_at(&b, "data.train.pipeline.[3].prob"), 0.5, 1e-15);
    ck_assert_ptr_null(strstr(b.warnings, "flipud"));
    done(&b);
}
END_TEST

static void expect_error(const char *hyp_text, const char *fragment) {
    const char *hyp = write_file("bad.yaml", hyp_text);
    applied a = apply(experiment("yolo_like", ""), hyp, NULL);
    ck_assert_int_gt(a.errors, 0);
    bool found = false;
    for (int i = 0; i < wb_config_error_count(a.cfg); i++) found |= strstr(wb_config_error(a.cfg, i), fragment) != NULL;
    ck_assert_msg(found, "no error containing '%s' (first: %s)", fragment, wb_config_error(a.cfg, 0));
    done(&a);
}

START_TEST(refusals_name_file_line_and_fix) {
    expect_error("lr0: 0.01\nlr: 0.02\n", "bad.yaml:2: error: unknown hyperparameter 'lr'; did you mean 'lr0'?");
    expect_error("lr0: 0.01\nfoo_bar_baz: 1\n", "unknown hyperparameter 'foo_bar_baz'; known: lr0, lrf,");
    /* a value out of the target's range is refused by validation at the file's line */
    expect_error("lr0: 0.01\ntranslate: 0.9\n", "bad.yaml:2: error:");
    expect_error("lr0: [1, 2]\n", "line 1: 'lr0' must be a number (got a list or mapping)");
    expect_error("lr0: fast\n", "line 1: 'lr0' must be a number (got fast)");
    expect_error("lr0: 0.01\nlr0: 0.02\n", "line 2: 'lr0' appears twice (first on line 1)");
    /* found by fuzz_hyp: an anchored empty key was taken as a name */
    expect_error("lr0: 0.01\n&l_gamma: 0\n", "line 2: a hyperparameter needs a name");
    expect_error("lr0: 0.01\nmomentum: 'unterminated\n", "not valid YAML");
    expect_error("- 1\n- 2\n", "a hyp file is a mapping of names to numbers");
    expect_error("", "the file is empty");
    applied a = apply(experiment("yolo_like", ""), "/nonexistent/hyp.yaml", NULL);
    ck_assert_int_gt(a.errors, 0);
    ck_assert_ptr_nonnull(strstr(wb_config_error(a.cfg, 0), "/nonexistent/hyp.yaml"));
    done(&a);
}
END_TEST

/* YOLOv5's own hyp files, when the yolov5 venv is here: every name is known. */
START_TEST(yolov5_packaged_hyps_are_all_known) {
    const char *venv = getenv("WB_YOLOV5_VENV");
    char pattern[1024];
    snprintf(pattern, sizeof pattern, "%s/lib/python3*/site-packages/yolov5/data/hyps/hyp.*.yaml",
             venv ? venv : "~/.cache/workbench/yolov5-venv");
    glob_t g;
    if (glob(pattern, GLOB_TILDE, NULL, &g) != 0) {
        fprintf(stderr, "yolov5_packaged_hyps_are_all_known: no files match %s (scripts/setup.sh makes the venv); "
                        "only the generated hyp file is tested\n", pattern);
        return;
    }
    const char *const *names = wb_hyp_names();
    for (size_t f = 0; f < g.gl_pathc; f++) {
        wb_hyp_file h;
        char err[600];
        ck_assert_msg(wb_hyp_read(g.gl_pathv[f], &h, err, sizeof err) == 0, "%s: %s", g.gl_pathv[f], err);
        ck_assert_int_ge(h.n, 28);
        for (int i = 0; i < h.n; i++) {
            bool known = false;
            for (int k = 0; names[k]; k++) known |= strcmp(names[k], h.entries[i].name) == 0;
            ck_assert_msg(known, "%s: '%s' is not a known hyp name", g.gl_pathv[f], h.entries[i].name);
        }
        if (strstr(g.gl_pathv[f], "scratch-low")) {
            ck_assert_str_eq(h.entries[0].name, "lr0");
            ck_assert_double_eq_tol(h.entries[2].value, 0.937, 1e-15);
        }
    }
    globfree(&g);
}
END_TEST

static void setup(void) { ck_assert_ptr_nonnull(mkdtemp(g_dir)); }

static void teardown(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(g_dir, "/tmp/wb_test_hyp.XXXXXX");
}

static Suite *hyp_suite(void) {
    Suite *s = suite_create("hyp");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, scratch_low_maps_onto_optimizer_head_and_pipeline);
    tcase_add_test(tc, set_wins_over_the_file);
    tcase_add_test(tc, mosaic_reaches_mosaic9);
    tcase_add_test(tc, keys_without_a_target_warn);
    tcase_add_test(tc, refusals_name_file_line_and_fix);
    tcase_add_test(tc, yolov5_packaged_hyps_are_all_known);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return wbt_run_suite(hyp_suite()); }
