/* Experiment configs: bases and overrides, --set, schema validation with the
 * exact messages users see, plugin schema errors, params getters, the
 * effective config round trip and the reference doc. Fixtures live in
 * tests/data/config/; module schemas come from a fake lookup below. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wbtest.h"
#include "config/config.h"
#include "config/config_tree.h"
#include "config/core_schema.h"
#include "config/params.h"
#include "config/schema_table.h"
#include "data/transforms.h"

#define CONF_DIR WB_SOURCE_DIR "/tests/data/config"

/* ---- a fake registry with hand-written schemas ---- */

static const char *const style_choices[] = { "pytorch", "caffe", NULL };
static const wb_param_schema resnet_params[] = {
    WB_P_INT("depth", "50", 18, 152, "number of layers"),
    WB_P_INT("frozen_stages", "-1", -1, 4, "stages without gradient"),
    WB_P_BOOL("norm_eval", "true", "batch norm in eval mode"),
    WB_P_CHOICE("style", "\"pytorch\"", style_choices, "where the stride-2 conv sits"),
    WB_PARAM_END,
};
static const wb_param_schema tiny_params[] = { WB_P_INT("width", "16", 1, 1024, "channels"), WB_PARAM_END };
static const wb_param_schema bad_params[] = {
    WB_P_INT("depth", "50", 18, 152, "fine"),
    { sizeof(wb_param_schema), NULL, WB_PARAM_INT, "an entry someone forgot to name", 0, "1", 0, 0, 0, NULL, 0 },
    WB_PARAM_END,
};
static const wb_param_schema fpn_params[] = {
    WB_P_INT("out_channels", "256", 1, 4096, "channels of every output"),
    WB_P_INT("num_outs", "5", 1, 8, "output levels"),
    WB_PARAM_END,
};
static const wb_param_schema retina_params[] = {
    WB_P_REQUIRED("num_classes", WB_PARAM_INT, "object classes"),
    WB_P_FLOAT_LIST("anchor_ratios", "[0.5, 1.0, 2.0]", 0, 100, "anchor aspect ratios"),
    WB_P_MODULE("loss_cls", WB_KIND_LOSS, "{ type = \"focal_loss\"; }", "classification loss"),
    WB_P_MODULE("loss_bbox", WB_KIND_LOSS, "{ type = \"l1_loss\"; }", "box loss"),
    WB_PARAM_END,
};
static const wb_param_schema focal_params[] = {
    WB_P_FLOAT("gamma", "2.0", 0, 10, "focusing"),
    WB_P_FLOAT("alpha", "0.25", 0, 1, "balance"),
    WB_P_FLOAT("loss_weight", "1.0", 0, 100, "weight"),
    WB_PARAM_END,
};
static const wb_param_schema l1_params[] = { WB_P_FLOAT("loss_weight", "1.0", 0, 100, "weight"), WB_PARAM_END };
static const wb_param_schema synthetic_params[] = {
    WB_P_INT("num_images", "64", 1, 1000000, "images"),
    WB_P_INT_LIST("image_size", "[64, 64]", 8, 4096, "h, w"),
    WB_P_STRING_LIST("classes", "[\"object\"]", "class names"),
    WB_PARAM_END,
};
static const wb_param_schema resize_params[] = {
    WB_P_REQUIRED("scale", WB_PARAM_INT_LIST, "target size"),
    WB_P_BOOL("keep_ratio", "true", "letterbox"),
    WB_PARAM_END,
};
static const wb_param_schema flip_params[] = { WB_P_FLOAT("prob", "0.5", 0, 1, "flip probability"), WB_PARAM_END };

#define DESC(kind_, name_, params_) { sizeof(wb_module_desc), kind_, name_, "a test " name_, 0, params_, NULL, NULL, NULL }
static const wb_module_desc fake_modules[] = {
    DESC(WB_KIND_BACKBONE, "resnet", resnet_params),   DESC(WB_KIND_BACKBONE, "tiny_cnn", tiny_params),
    DESC(WB_KIND_BACKBONE, "bad_schema", bad_params),  DESC(WB_KIND_NECK, "fpn", fpn_params),
    DESC(WB_KIND_HEAD, "retina_head", retina_params),  DESC(WB_KIND_LOSS, "focal_loss", focal_params),
    DESC(WB_KIND_LOSS, "l1_loss", l1_params),          DESC(WB_KIND_DATASET, "synthetic", synthetic_params),
};
#define N_FAKE ((int)(sizeof fake_modules / sizeof fake_modules[0]))

static const wb_module_desc *fake_find(void *user, wb_module_kind kind, const char *type) {
    (void)user;
    for (int i = 0; i < N_FAKE; i++)
        if (fake_modules[i].kind == kind && strcmp(fake_modules[i].type_name, type) == 0) return &fake_modules[i];
    return NULL;
}

static int fake_list(void *user, wb_module_kind kind, const char **names, int max) {
    (void)user;
    int n = 0;
    for (int i = 0; i < N_FAKE; i++)
        if (fake_modules[i].kind == kind) {
            if (n < max) names[n] = fake_modules[i].type_name;
            n++;
        }
    return n;
}

static const wb_param_schema *fake_find_transform(void *user, const char *type) {
    (void)user;
    return strcmp(type, "resize") == 0 ? resize_params : strcmp(type, "random_flip") == 0 ? flip_params : NULL;
}

static int fake_list_transforms(void *user, const char **names, int max) {
    (void)user;
    static const char *const all[] = { "resize", "random_flip" };
    for (int i = 0; i < 2 && i < max; i++) names[i] = all[i];
    return 2;
}

static const wb_module_lookup fake_lookup = { fake_find, fake_list, fake_find_transform, fake_list_transforms, NULL, NULL };

/* ---- helpers ---- */

static void dump_errors(const wb_config *cfg) { wb_config_print_errors(cfg, stderr); }

static wb_config *load(const char *rel) {
    wb_config *cfg = wb_config_new();
    ck_assert_ptr_nonnull(cfg);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", CONF_DIR, rel);
    wb_config_load(cfg, path);
    return cfg;
}

static wb_config *load_valid(const char *rel) {
    wb_config *cfg = load(rel);
    if (wb_config_validate(cfg, &fake_lookup) != 0) dump_errors(cfg);
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    return cfg;
}

static config_setting_t *at(wb_config *cfg, const char *path) {
    config_setting_t *s = config_lookup(wb_config_tree(cfg), path);
    ck_assert_msg(s != NULL, "%s is missing from the config", path);
    return s;
}

static long long int_at(wb_config *cfg, const char *path) { return config_setting_get_int64(at(cfg, path)); }
static double float_at(wb_config *cfg, const char *path) {
    config_setting_t *s = at(cfg, path);
    ck_assert_msg(config_setting_type(s) == CONFIG_TYPE_FLOAT, "%s is not a float", path);
    return config_setting_get_float(s);
}
static const char *string_at(wb_config *cfg, const char *path) {
    const char *v = config_setting_get_string(at(cfg, path));
    ck_assert_msg(v != NULL, "%s is not a string", path);
    return v;
}

/* Asserts that one of the errors is exactly `expected`, with CONF_DIR/
 * substituted for "@/". */
static void assert_error(const wb_config *cfg, const char *expected) {
    char want[2048];
    const char *at_dir = strstr(expected, "@/");
    if (at_dir)
        snprintf(want, sizeof want, "%.*s%s/%s", (int)(at_dir - expected), expected, CONF_DIR, at_dir + 2);
    else
        snprintf(want, sizeof want, "%s", expected);
    for (int i = 0; i < wb_config_error_count(cfg); i++)
        if (strcmp(wb_config_error(cfg, i), want) == 0) return;
    dump_errors(cfg);
    ck_abort_msg("expected the error\n  %s\namong the %d above", want, wb_config_error_count(cfg));
}

/* ---- bases and layering ---- */

START_TEST(include_base_from_subdirectory) {
    wb_config *cfg = load_valid("retinanet/retina_tiny_1x.conf");
    /* From ../_base_/models/retina_tiny.conf, which includes ../default_runtime.conf itself. */
    ck_assert_str_eq(string_at(cfg, "model.backbone.type"), "resnet");
    ck_assert_int_eq(int_at(cfg, "model.backbone.depth"), 50);
    ck_assert_int_eq(int_at(cfg, "seed"), 7);
    ck_assert_int_eq(int_at(cfg, "checkpoint.keep"), 2);
    /* From ../_base_/datasets/synthetic.conf. */
    ck_assert_str_eq(string_at(cfg, "data.train.pipeline.[1].type"), "random_flip");
    ck_assert_str_eq(string_at(cfg, "data.val.dataset.classes.[2]"), "c");
    wb_config_free(cfg);
}
END_TEST

START_TEST(derived_file_overrides_its_bases) {
    wb_config *cfg = load_valid("retinanet/retina_tiny_1x.conf");
    ck_assert_double_eq(float_at(cfg, "optimizer.lr"), 0.02);       /* derived wins over 0.01 */
    ck_assert_double_eq(float_at(cfg, "optimizer.momentum"), 0.9);  /* base key kept by the merge */
    ck_assert_int_eq(int_at(cfg, "model.head.num_classes"), 3);     /* 80 in the base */
    ck_assert_double_eq(float_at(cfg, "model.head.loss_cls.alpha"), 0.25);
    config_setting_t *m = at(cfg, "schedule.milestones");           /* lists replace, not append */
    ck_assert_int_eq(config_setting_length(m), 1);
    ck_assert_int_eq(config_setting_get_int_elem(m, 0), 4);
    ck_assert_str_eq(string_at(cfg, "schedule.warmup"), "none");
    ck_assert_int_eq(int_at(cfg, "schedule.max_epochs"), 12);
    wb_config_free(cfg);
}
END_TEST

START_TEST(changing_module_type_replaces_the_base_group) {
    wb_config *cfg = load_valid("retinanet/retina_small_backbone.conf");
    ck_assert_str_eq(string_at(cfg, "model.backbone.type"), "tiny_cnn");
    ck_assert_int_eq(int_at(cfg, "model.backbone.width"), 8);
    /* resnet's depth would be an unknown key for tiny_cnn: it must be gone. */
    ck_assert_ptr_null(config_lookup(wb_config_tree(cfg), "model.backbone.depth"));
    ck_assert_int_eq(int_at(cfg, "model.head.num_classes"), 3);
    wb_config_free(cfg);
}
END_TEST

START_TEST(defaults_are_filled_into_the_tree) {
    wb_config *cfg = load_valid("retinanet/retina_tiny_1x.conf");
    ck_assert_int_eq(config_setting_get_bool(at(cfg, "optimizer.nesterov")), 0);
    ck_assert_int_eq(int_at(cfg, "evaluation.interval"), -1);            /* section left out entirely: "every epoch" */
    ck_assert_str_eq(string_at(cfg, "model.backbone.style"), "pytorch");  /* module default */
    ck_assert_str_eq(string_at(cfg, "model.head.loss_bbox.type"), "l1_loss"); /* module-valued default... */
    ck_assert_double_eq(float_at(cfg, "model.head.loss_bbox.loss_weight"), 1.0); /* ...validated in turn */
    ck_assert_int_eq(config_setting_get_bool(at(cfg, "data.train.pipeline.[0].keep_ratio")), 1);
    ck_assert_ptr_null(config_lookup(wb_config_tree(cfg), "data.test")); /* optional section stays absent */
    ck_assert_ptr_null(config_lookup(wb_config_tree(cfg), "model.neck"));
    wb_config_free(cfg);
}
END_TEST

START_TEST(empty_work_dir_derives_from_file_name) {
    wb_config *cfg = load("retinanet/retina_tiny_1x.conf");
    ck_assert_int_eq(wb_config_override(cfg, "work_dir=\"\""), 0);
    ck_assert_int_eq(wb_config_validate(cfg, &fake_lookup), 0);
    ck_assert_str_eq(string_at(cfg, "work_dir"), "work_dirs/retina_tiny_1x");
    wb_config_free(cfg);
}
END_TEST

/* ---- --set ---- */

START_TEST(set_typed_values_and_nested_paths) {
    wb_config *cfg = load("retinanet/retina_tiny_1x.conf");
    const char *sets[] = {
        "seed=42",                                  /* int */
        "optimizer.lr=0.125",                       /* float */
        "optimizer.weight_decay=0",                 /* int where a float is wanted: widened */
        "optimizer.nesterov=true",                  /* bool */
        "backend=auto",                             /* bare word */
        "work_dir=\"work_dirs/with space\"",        /* quoted string */
        "load_from=2024",                           /* digits meant as text for a string key */
        "schedule.milestones=[3, 5, 7]",            /* list */
        "model.head.loss_cls.gamma=1.5",            /* nested module key */
        "model.neck.type=fpn",                      /* creates the missing neck group */
        "data.train.pipeline.0.scale=[320, 256]",   /* into a pipeline step */
        "data.test.dataset.type=synthetic",         /* creates an optional section */
        "model.head.loss_bbox.loss_weight=2",       /* no type given: the schema default's type */
        "model.backbone={ type = \"tiny_cnn\"; width = 4; }", /* another type: replaces the group */
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) wb_config_override(cfg, sets[i]);
    if (wb_config_validate(cfg, &fake_lookup) != 0) dump_errors(cfg);
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    ck_assert_int_eq(int_at(cfg, "seed"), 42);
    ck_assert_double_eq(float_at(cfg, "optimizer.lr"), 0.125);
    ck_assert_double_eq(float_at(cfg, "optimizer.weight_decay"), 0.0);
    ck_assert_int_eq(config_setting_get_bool(at(cfg, "optimizer.nesterov")), 1);
    ck_assert_str_eq(string_at(cfg, "backend"), "auto");
    ck_assert_str_eq(string_at(cfg, "work_dir"), "work_dirs/with space");
    ck_assert_str_eq(string_at(cfg, "load_from"), "2024");
    config_setting_t *m = at(cfg, "schedule.milestones");
    ck_assert_int_eq(config_setting_length(m), 3);
    ck_assert_int_eq(config_setting_get_int_elem(m, 2), 7);
    ck_assert_double_eq(float_at(cfg, "model.head.loss_cls.gamma"), 1.5);
    ck_assert_double_eq(float_at(cfg, "model.head.loss_cls.alpha"), 0.25); /* rest of the group kept */
    ck_assert_int_eq(int_at(cfg, "model.neck.out_channels"), 256);         /* created, then defaulted */
    ck_assert_int_eq(config_setting_get_int_elem(at(cfg, "data.train.pipeline.[0].scale"), 1), 256);
    ck_assert_int_eq(int_at(cfg, "data.test.dataset.num_images"), 64);
    ck_assert_str_eq(string_at(cfg, "model.head.loss_bbox.type"), "l1_loss");
    ck_assert_double_eq(float_at(cfg, "model.head.loss_bbox.loss_weight"), 2.0);
    ck_assert_int_eq(int_at(cfg, "model.backbone.width"), 4);
    ck_assert_ptr_null(config_lookup(wb_config_tree(cfg), "model.backbone.depth"));
    wb_config_free(cfg);
}
END_TEST

START_TEST(set_errors) {
    wb_config *cfg = load("retinanet/retina_tiny_1x.conf");
    wb_config_override(cfg, "optimizer.mometum=0.8");
    wb_config_override(cfg, "model.backbone.dpth=101");   /* module key: checked by validation */
    wb_config_override(cfg, "optimizer.lr=[1,");
    wb_config_override(cfg, "seed.value=1");
    wb_config_override(cfg, "schedule.milestones.0=1");
    wb_config_override(cfg, "optimizer.lr");
    wb_config_override(cfg, "data.train.pipeline.5.scale=[1, 1]");
    wb_config_override(cfg, "optimizer.lr=\"fast\"");     /* wrong type, found by validation */
    ck_assert_int_eq(wb_config_error_count(cfg), 6);
    wb_config_validate(cfg, &fake_lookup);
    assert_error(cfg, "<command line>:1: error: --set optimizer.mometum=0.8: unknown key 'mometum' in optimizer; "
                      "did you mean 'momentum'?");
    assert_error(cfg, "<command line>:2: error: unknown key 'dpth' in model.backbone (resnet); did you mean 'depth'?");
    assert_error(cfg, "<command line>:3: error: --set optimizer.lr=[1,: cannot read the value '[1,' (syntax error); "
                      "quote text with spaces or symbols: key='\"text\"'");
    assert_error(cfg, "<command line>:4: error: --set seed.value=1: seed is a single value, it has no keys");
    assert_error(cfg, "<command line>:5: error: --set schedule.milestones.0=1: expected key.path=value ending with "
                      "a key name (to change a list, set it whole: key=[...])");
    assert_error(cfg, "<command line>:6: error: --set optimizer.lr: expected key.path=value");
    assert_error(cfg, "<command line>:7: error: --set data.train.pipeline.5.scale=[1, 1]: index 5 is past the end "
                      "of data.train.pipeline (2 elements)");
    assert_error(cfg, "<command line>:8: error: optimizer.lr: expected a float, got a string (\"fast\")");
    ck_assert_int_eq(wb_config_error_count(cfg), 8);
    wb_config_free(cfg);
}
END_TEST

/* ---- validation messages ---- */

START_TEST(every_schema_error_is_reported_with_file_and_line) {
    wb_config *cfg = load("errors/schema_errors.conf");
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    wb_config_validate(cfg, &fake_lookup);
    const char *f = "@/errors/schema_errors.conf";
    char e[1024];
#define EXPECT(line, msg)                                           \
    do {                                                            \
        snprintf(e, sizeof e, "%s:%d: error: %s", f, line, msg);   \
        assert_error(cfg, e);                                       \
    } while (0)
    EXPECT(4, "unknown key 'sed' in the experiment; did you mean 'seed'?");
    EXPECT(5, "threads = -1 is out of range [0, 1024] (CPU threads; 0: all cores (WB_THREADS and --threads override "
              "it); oneDNN aborts with many more than 1024)");
    EXPECT(6, "backend = \"gpu\" is not one of: cpu, cuda, auto, cuda:0, cuda:1, cuda:2, cuda:3, cuda:4, cuda:5, "
              "cuda:6, cuda:7, cuda:8, cuda:9, cuda:10, cuda:11, cuda:12, cuda:13, cuda:14, cuda:15; did you mean 'cpu'?");
    EXPECT(7, "optimizer.lr: expected a float, got a string (\"fast\")");
    EXPECT(7, "unknown key 'mometum' in optimizer; did you mean 'momentum'?");
    EXPECT(9, "unknown backbone type 'resnt'; known backbone types: resnet, tiny_cnn, bad_schema; "
              "did you mean 'resnet'?");
    EXPECT(10, "model.neck: expected a group { type = \"...\"; ... }, got an int (3)");
    EXPECT(11, "unknown key 'gama' in model.head.loss_cls (focal_loss); did you mean 'gamma'?");
    EXPECT(13, "unknown transform type 'resise'; known transform types: resize, random_flip; did you mean 'resize'?");
    EXPECT(14, "schedule.milestones[1] = -2 is out of range [0, 1000000000] (step policy: epochs (or iterations) "
               "where lr *= gamma)");
#undef EXPECT
    ck_assert_int_eq(wb_config_error_count(cfg), 10);
    wb_config_free(cfg);
}
END_TEST

START_TEST(missing_required_keys) {
    wb_config *cfg = load("errors/missing.conf");
    wb_config_validate(cfg, &fake_lookup);
    assert_error(cfg, "@/errors/missing.conf:4: error: missing required key 'num_classes' in model.head "
                      "(retina_head) (object classes)");
    assert_error(cfg, "@/errors/missing.conf: error: missing required section 'data' in the experiment "
                      "(datasets, transform pipelines and loading)");
    ck_assert_int_eq(wb_config_error_count(cfg), 2);
    wb_config_free(cfg);
}
END_TEST

START_TEST(unknown_key_without_close_match_lists_known_keys) {
    wb_config *cfg = load("retinanet/retina_tiny_1x.conf");
    wb_config_override(cfg, "log.colour=true");
    wb_config_validate(cfg, &fake_lookup);
    assert_error(cfg, "<command line>:1: error: --set log.colour=true: unknown key 'colour' in log; "
                      "known keys: interval, tensorboard");
    ck_assert_int_eq(wb_config_error_count(cfg), 1);
    wb_config_free(cfg);
}
END_TEST

START_TEST(null_schema_name_is_a_plugin_error) {
    wb_config *cfg = load("errors/plugin_schema.conf");
    wb_config_validate(cfg, &fake_lookup);
    assert_error(cfg, "@/errors/plugin_schema.conf:2: error: plugin error: backbone 'bad_schema': schema entry 1 "
                      "has a NULL name (only WB_PARAM_END may, and it has type 0); fix the plugin's schema or use "
                      "another backbone type");
    ck_assert_int_eq(wb_config_error_count(cfg), 1);
    wb_config_free(cfg);
}
END_TEST

START_TEST(plugin_schema_check) {
    static const wb_param_schema dup[] = { WB_P_INT("a", "1", 0, 2, ""), WB_P_INT("a", "1", 0, 2, ""), WB_PARAM_END };
    static const wb_param_schema bad_default[] = { WB_P_FLOAT("lr", "fast", 0, 1, ""), WB_PARAM_END };
    static const wb_param_schema default_out_of_range[] = { WB_P_INT("n", "9", 0, 2, ""), WB_PARAM_END };
    static const wb_param_schema choice_without_choices[] = { WB_P_CHOICE("mode", "\"a\"", NULL, ""), WB_PARAM_END };
    static const wb_param_schema reserved[] = { WB_P_STRING("type", "\"x\"", ""), WB_PARAM_END };
    char err[512];
    ck_assert_int_eq(wb_param_schema_check(resnet_params, "backbone 'resnet'", err, sizeof err), 0);
    ck_assert_int_eq(wb_param_schema_check(NULL, "loss 'none'", err, sizeof err), 0);
    ck_assert_int_eq(wb_param_schema_check(dup, "m", err, sizeof err), -1);
    ck_assert_str_eq(err, "m: schema entry 1 ('a'): the name 'a' appears twice");
    ck_assert_int_eq(wb_param_schema_check(bad_default, "m", err, sizeof err), -1);
    ck_assert_str_eq(err, "m: schema entry 0 ('lr'): default 'fast' is not a libconfig value (syntax error)");
    ck_assert_int_eq(wb_param_schema_check(default_out_of_range, "m", err, sizeof err), -1);
    ck_assert_str_eq(err, "m: schema entry 0 ('n'): default = 9 is out of range [0, 2]");
    ck_assert_int_eq(wb_param_schema_check(choice_without_choices, "m", err, sizeof err), -1);
    ck_assert_str_eq(err, "m: schema entry 0 ('mode'): a choice needs a NULL-terminated list of choices");
    ck_assert_int_eq(wb_param_schema_check(reserved, "m", err, sizeof err), -1);
    ck_assert_str_eq(err, "m: schema entry 0 ('type'): 'type' is reserved for the module type");
}
END_TEST

/* The core schema's own tables pass the same check (defaults parse and fit). */
static void check_sections(const wb_config_section *s, const char *path) {
    char err[512];
    ck_assert_msg(wb_schema_check_table(s->params, path, 0, err, sizeof err) == 0, "%s", err);
    for (const wb_config_section *c = s->sections; c && c->name; c++) check_sections(c, c->name);
}

START_TEST(core_schema_is_well_formed) { check_sections(wb_core_schema(), "root"); }
END_TEST

/* The pipeline steps the core ships are validated with the same rules as plugins. */
START_TEST(builtin_transform_schemas_are_well_formed) {
    char err[512];
    int n = 0;
    for (const char *const *t = wb_transform_types(); *t; t++, n++)
        ck_assert_msg(wb_param_schema_check(wb_transform_schema(*t), *t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_gt(n, 0);
}
END_TEST

/* ---- file errors ---- */

START_TEST(parse_errors_point_at_file_and_line) {
    wb_config *cfg = load("errors/parse_error.conf");
    assert_error(cfg, "@/errors/parse_error.conf:3: error: syntax error");
    wb_config_free(cfg);
    cfg = load("errors/bad_base.conf"); /* the error is in the base, not in the file loaded */
    assert_error(cfg, "@/errors/parse_error.conf:3: error: syntax error");
    ck_assert_int_eq(wb_config_error_count(cfg), 1);
    wb_config_free(cfg);
    cfg = load("errors/mixed_array.conf");
    assert_error(cfg, "@/errors/mixed_array.conf:2: error: mismatched element type in array (all elements of an "
                      "array [...] must have one type: write floats with a decimal point, [0.5, 1.0, 2.0])");
    wb_config_free(cfg);
}
END_TEST

START_TEST(include_errors) {
    wb_config *cfg = load("errors/include_missing.conf");
    assert_error(cfg, "@/errors/include_missing.conf:2: error: cannot read included file "
                      "'" CONF_DIR "/errors/../_base_/nope.conf': No such file or directory");
    wb_config_free(cfg);
    cfg = load("errors/cycle_a.conf");
    assert_error(cfg, "@/errors/cycle_b.conf:1: error: include cycle: " CONF_DIR "/errors/cycle_a.conf -> "
                      CONF_DIR "/errors/cycle_b.conf -> " CONF_DIR "/errors/cycle_a.conf");
    ck_assert_int_eq(wb_config_error_count(cfg), 1);
    wb_config_free(cfg);
    cfg = load("errors/late_include.conf");
    assert_error(cfg, "@/errors/late_include.conf:2: error: @include must come before the first setting of the "
                      "file (bases are merged first, then this file's settings override them)");
    wb_config_free(cfg);
    cfg = load("errors/malformed_include.conf");
    assert_error(cfg, "@/errors/malformed_include.conf:1: error: malformed @include; write @include "
                      "\"relative/path.conf\"");
    wb_config_free(cfg);
    cfg = load("errors/no_such_experiment.conf");
    assert_error(cfg, "@/errors/no_such_experiment.conf: error: cannot read the config file: No such file or "
                      "directory");
    wb_config_free(cfg);
}
END_TEST

/* ---- params getters ---- */

START_TEST(params_getters_read_the_validated_tree) {
    wb_config *cfg = load_valid("retinanet/retina_tiny_1x.conf");
    const wb_params *head = wb_config_params(cfg, "model.head");
    ck_assert_ptr_nonnull(head);
    ck_assert_ptr_eq(head, wb_config_params(cfg, "model.head")); /* stable per group */
    ck_assert_int_eq(wb_params_has(head, "num_classes"), 1);
    ck_assert_int_eq(wb_params_has(head, "nope"), 0);
    ck_assert_int_eq(wb_params_int(head, "num_classes"), 3);
    ck_assert_int_eq(wb_params_list_len(head, "anchor_ratios"), 3);
    ck_assert_double_eq(wb_params_float_at(head, "anchor_ratios", 2), 2.0);
    const wb_params *loss = wb_params_section(head, "loss_cls");
    ck_assert_ptr_eq(loss, wb_config_params(cfg, "model.head.loss_cls"));
    ck_assert_str_eq(wb_params_string(loss, "type"), "focal_loss");
    ck_assert_double_eq(wb_params_float(loss, "gamma"), 2.0);
    const wb_params *backbone = wb_config_params(cfg, "model.backbone");
    ck_assert_int_eq(wb_params_bool(backbone, "norm_eval"), 1);
    const wb_params *ds = wb_config_params(cfg, "data.train.dataset");
    ck_assert_str_eq(wb_params_string_at(ds, "classes", 1), "b");
    ck_assert_int_eq(wb_params_int_at(ds, "image_size", 0), 64);
    ck_assert_ptr_null(wb_params_section(head, "num_classes")); /* not a group */
    ck_assert_ptr_null(wb_config_params(cfg, "model.nothing"));
    ck_assert_int_eq(wb_params_int(wb_config_params(cfg, ""), "seed"), 7);
    wb_config_free(cfg);
}
END_TEST

/* ---- effective config ---- */

/* Same keys, types and values. libconfig writes floats with 15 significant
 * digits, so a float may move by a few ulps: relative 1e-14. */
static void assert_same_tree(const config_setting_t *a, const config_setting_t *b) {
    char path[512];
    wb_tree_path(a, path, sizeof path);
    ck_assert_msg(config_setting_type(a) == config_setting_type(b), "%s: type %d vs %d", path,
                  config_setting_type(a), config_setting_type(b));
    switch (config_setting_type(a)) {
    case CONFIG_TYPE_GROUP:
    case CONFIG_TYPE_LIST:
    case CONFIG_TYPE_ARRAY:
        ck_assert_msg(config_setting_length(a) == config_setting_length(b), "%s: length differs", path);
        for (int i = 0; i < config_setting_length(a); i++) {
            const config_setting_t *ea = config_setting_get_elem(a, (unsigned)i);
            const config_setting_t *eb = config_setting_is_group(a)
                                             ? config_setting_get_member(b, config_setting_name(ea))
                                             : config_setting_get_elem(b, (unsigned)i);
            ck_assert_msg(eb != NULL, "%s: %s missing after the round trip", path, config_setting_name(ea));
            assert_same_tree(ea, eb);
        }
        break;
    case CONFIG_TYPE_FLOAT: {
        double x = config_setting_get_float(a), y = config_setting_get_float(b);
        ck_assert_msg(fabs(x - y) <= 1e-14 * fabs(x), "%s: %.17g vs %.17g", path, x, y);
        break;
    }
    case CONFIG_TYPE_STRING: ck_assert_str_eq(config_setting_get_string(a), config_setting_get_string(b)); break;
    case CONFIG_TYPE_BOOL: ck_assert_int_eq(config_setting_get_bool(a), config_setting_get_bool(b)); break;
    default: ck_assert_int_eq(config_setting_get_int64(a), config_setting_get_int64(b));
    }
}

START_TEST(effective_config_round_trips) {
    wb_config *cfg = load("retinanet/retina_tiny_1x.conf");
    wb_config_override(cfg, "optimizer.lr=0.123456789012345");
    wb_config_override(cfg, "optimizer.eps=1e-12");
    ck_assert_int_eq(wb_config_validate(cfg, &fake_lookup), 0);
    char path[] = "/tmp/wb_test_config_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char err[256];
    ck_assert_msg(wb_config_write(cfg, path, err, sizeof err) == 0, "%s", err);

    wb_config *again = wb_config_new();
    ck_assert_int_eq(wb_config_load(again, path), 0);
    if (wb_config_validate(again, &fake_lookup) != 0) dump_errors(again);
    ck_assert_int_eq(wb_config_error_count(again), 0);
    assert_same_tree(config_root_setting(wb_config_tree(cfg)), config_root_setting(wb_config_tree(again)));
    ck_assert_double_eq_tol(float_at(again, "optimizer.lr"), 0.123456789012345, 1e-15);
    ck_assert_int_eq(int_at(again, "model.head.num_classes"), 3);
    unlink(path);
    ck_assert_int_eq(wb_config_write(cfg, "/nonexistent_dir/x.conf", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot write the effective config to /nonexistent_dir/x.conf"));
    wb_config_free(again);
    wb_config_free(cfg);
}
END_TEST

/* ---- reference doc ---- */

START_TEST(reference_doc_lists_core_and_module_schemas) {
    const wb_module_desc *mods[] = { &fake_modules[0], &fake_modules[2], &fake_modules[5] };
    char *doc = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&doc, &size);
    ck_assert_int_eq(wb_config_write_reference(out, mods, 3, &fake_lookup), 0);
    fclose(out);
    const char *want[] = {
        "# Configuration reference\n",
        "### `optimizer` (defaults if left out)\n",
        "| `lr` | float | `0.01` | [0, 10] | base learning rate |\n",
        "| `backend` | choice | `\"cpu\"` | `cpu`, `cuda`, `auto`, `cuda:0`, `cuda:1`, ",
        "### `data.train` (required)\n",
        "| `dataset` | dataset module | **required** | ",
        "| `neck` | neck module | (optional) | ",
        "## Backbones\n\n### `resnet`\n\na test resnet\n\nSelected with `type = \"resnet\";`.\n",
        "| `depth` | int | `50` | [18, 152] | number of layers |\n",
        "**Broken schema:** backbone 'bad_schema': schema entry 1 has a NULL name",
        "## Losses\n",
        "| `gamma` | float | `2.0` | [0, 10] | focusing |\n",
        "## Transforms\n",
        "| `scale` | int list | **required** |  | target size |\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(doc, want[i]) != NULL, "the reference lacks:\n%s\n---- it is:\n%s", want[i], doc);
    ck_assert_ptr_null(strstr(doc, "## Necks")); /* no neck among the given modules */
    free(doc);
}
END_TEST

/* ---- hostile text (every input generated here) ---- */

#include <sys/stat.h>
#include "config/config_text.h"

/* A private folder for generated configs; removed by the test's process exit (files are few and tiny). */
static const char *scratch_dir(void) {
    static char dir[] = "/tmp/wb_test_config_text.XXXXXX";
    static int made;
    if (!made) ck_assert_ptr_nonnull(mkdtemp(dir));
    made = 1;
    return dir;
}

/* Writes len bytes as NAME in the scratch folder; returns its path (static buffer). */
static const char *write_conf(const char *name, const char *text, size_t len) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", scratch_dir(), name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

static wb_config *load_text(const char *name, const char *text, size_t len) {
    wb_config *cfg = wb_config_new();
    ck_assert_ptr_nonnull(cfg);
    wb_config_load(cfg, write_conf(name, text, len));
    return cfg;
}

/* Asserts one error ends with `tail` ("file:line: error: ..." with the scratch path before it). */
static void assert_error_tail(const wb_config *cfg, const char *tail) {
    size_t n = strlen(tail);
    for (int i = 0; i < wb_config_error_count(cfg); i++) {
        const char *e = wb_config_error(cfg, i);
        if (strlen(e) >= n && strcmp(e + strlen(e) - n, tail) == 0) return;
    }
    dump_errors(cfg);
    ck_abort_msg("expected an error ending with\n  %s\namong the %d above", tail, wb_config_error_count(cfg));
}

START_TEST(nul_byte_and_open_comment_are_errors) {
    static const char nul[] = "seed = 1;\nthreads = 2;\0\nschedule = { max_epochs = 1; };\n";
    wb_config *cfg = load_text("nul.conf", nul, sizeof nul - 1);
    assert_error_tail(cfg, "nul.conf:2: error: a NUL byte: a config is text (is this a binary file?); nothing after "
                           "it would be read");
    wb_config_free(cfg);
    static const char open_comment[] = "seed = 1;\n\n/* the rest\nschedule = { max_epochs = 1; };\n";
    cfg = load_text("comment.conf", open_comment, sizeof open_comment - 1);
    assert_error_tail(cfg, "comment.conf:3: error: unterminated /* comment: everything after it would be ignored; "
                           "close it with */");
    ck_assert_int_eq(wb_config_error_count(cfg), 1);
    wb_config_free(cfg);
    /* Comment and string markers inside strings and line comments are text. */
    static const char fine[] = "a = \"/* not a comment\"; # /* nor this\nb = \"x\\\"/*\"; // /*\nc = 1; /* closed */\n";
    cfg = load_text("fine.conf", fine, sizeof fine - 1);
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    ck_assert_str_eq(string_at(cfg, "a"), "/* not a comment");
    ck_assert_int_eq(int_at(cfg, "c"), 1);
    wb_config_free(cfg);
}
END_TEST

START_TEST(integers_keep_their_value) {
    static const char text[] = "big = 4294967298;\nmax = 9223372036854775807;\nmin = -9223372036854775808;\n"
                               "neg = -2147483649;\nhex = 0xFFFFFFFF;\nsmall = 7;\nsuffixed = 5L;\n"
                               "mixed = [8, 4294967298, 9];\nlist = ( 1, 4294967298 );\nf = 1e3;\n"
                               "s = \"99999999999999999999\"; # 99999999999999999999\n";
    wb_config *cfg = load_text("ints.conf", text, sizeof text - 1);
    if (wb_config_error_count(cfg)) dump_errors(cfg);
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    ck_assert_int_eq(int_at(cfg, "big"), 4294967298LL);
    ck_assert_int_eq(int_at(cfg, "max"), INT64_MAX);
    ck_assert_int_eq(int_at(cfg, "min"), INT64_MIN);
    ck_assert_int_eq(int_at(cfg, "neg"), -2147483649LL);
    ck_assert_int_eq(int_at(cfg, "hex"), 4294967295LL);
    ck_assert_int_eq(config_setting_type(at(cfg, "small")), CONFIG_TYPE_INT); /* small ints stay ints */
    ck_assert_int_eq(int_at(cfg, "suffixed"), 5);
    ck_assert_int_eq(int_at(cfg, "mixed.[0]"), 8); /* an array's ints share one type */
    ck_assert_int_eq(int_at(cfg, "mixed.[1]"), 4294967298LL);
    ck_assert_int_eq(int_at(cfg, "list.[1]"), 4294967298LL);
    ck_assert_double_eq(float_at(cfg, "f"), 1000.0);
    ck_assert_str_eq(string_at(cfg, "s"), "99999999999999999999");
    wb_config_free(cfg);

    static const char too_big[] = "a = 1;\nb = 99999999999999999999;\nc = -9223372036854775809;\nd = 0x1FFFFFFFFFFFFFFFF;\n";
    cfg = load_text("too_big.conf", too_big, sizeof too_big - 1);
    assert_error_tail(cfg, "too_big.conf:2: error: the integer 99999999999999999999 does not fit in 64 bits "
                           "(-9223372036854775808 to 9223372036854775807)");
    assert_error_tail(cfg, "too_big.conf:3: error: the integer -9223372036854775809 does not fit in 64 bits "
                           "(-9223372036854775808 to 9223372036854775807)");
    assert_error_tail(cfg, "too_big.conf:4: error: the integer 0x1FFFFFFFFFFFFFFFF does not fit in 64 bits "
                           "(-9223372036854775808 to 9223372036854775807)");
    wb_config_free(cfg);
}
END_TEST

START_TEST(range_errors_name_the_value_as_written) {
    wb_config *cfg = load("retinanet/retina_tiny_1x.conf");
    wb_config_override(cfg, "schedule.max_epochs=4294967298");
    wb_config_override(cfg, "seed=9223372036854775807");
    wb_config_override(cfg, "schedule.milestones=[1, 4294967298]");
    wb_config_override(cfg, "checkpoint.keep=99999999999999999999");
    wb_config_validate(cfg, &fake_lookup);
    assert_error(cfg, "<command line>:1: error: schedule.max_epochs = 4294967298 is out of range [0, 1000000000] "
                      "(training length when by_epoch = true)");
    assert_error(cfg, "<command line>:2: error: seed = 9223372036854775807 is out of range [0, 2147483647] (seed of "
                      "every random stream (init, data order, transforms))");
    assert_error(cfg, "<command line>:3: error: schedule.milestones[1] = 4294967298 is out of range [0, 1000000000] "
                      "(step policy: epochs (or iterations) where lr *= gamma)");
    assert_error(cfg, "<command line>:4: error: --set checkpoint.keep=99999999999999999999: cannot read the value "
                      "'99999999999999999999' (the integer 99999999999999999999 does not fit in 64 bits "
                      "(-9223372036854775808 to 9223372036854775807)); quote text with spaces or symbols: "
                      "key='\"text\"'");
    wb_config_free(cfg);
}
END_TEST

START_TEST(set_list_index_is_checked_exactly) {
    wb_config *cfg = load("retinanet/retina_tiny_1x.conf");
    wb_config_override(cfg, "data.train.pipeline.4294967296.zzz=1");
    wb_config_override(cfg, "data.train.pipeline.18446744073709551617.zzz=1");
    wb_config_override(cfg, "data.train.pipeline.2.zzz=1");
    assert_error(cfg, "<command line>:1: error: --set data.train.pipeline.4294967296.zzz=1: index "
                      "4294967296 is past the end of data.train.pipeline (2 elements)");
    assert_error(cfg, "<command line>:2: error: --set data.train.pipeline.18446744073709551617.zzz=1: "
                      "index 18446744073709551617 is past the end of data.train.pipeline (2 elements)");
    assert_error(cfg, "<command line>:3: error: --set data.train.pipeline.2.zzz=1: index 2 is past the "
                      "end of data.train.pipeline (2 elements)");
    ck_assert_int_eq(wb_config_error_count(cfg), 3);
    /* Element 0 was not edited. */
    ck_assert_ptr_null(config_lookup(wb_config_tree(cfg), "data.train.pipeline.[0].zzz"));
    wb_config_free(cfg);
}
END_TEST

START_TEST(fixed_size_lists_and_threads_have_limits) {
    wb_config *cfg = load("retinanet/retina_tiny_1x.conf");
    wb_config_override(cfg, "schedule.milestones=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]");
    wb_config_override(cfg, "evaluation.dynamic_intervals=[1, 2, 3]");
    wb_config_override(cfg, "optimizer.betas=[0.9, 0.99, 0.5]");
    wb_config_override(cfg, "threads=2048");
    wb_config_validate(cfg, &fake_lookup);
    assert_error(cfg, "<command line>:1: error: schedule.milestones has 17 elements; at most 16 are supported");
    assert_error(cfg, "<command line>:2: error: evaluation.dynamic_intervals has 3 elements, an odd number; it "
                      "holds [start, interval] pairs");
    assert_error(cfg, "<command line>:3: error: optimizer.betas has 3 elements; at most 2 are supported");
    assert_error(cfg, "<command line>:4: error: threads = 2048 is out of range [0, 1024] (CPU threads; 0: all cores "
                      "(WB_THREADS and --threads override it); oneDNN aborts with many more than 1024)");
    ck_assert_int_eq(wb_config_error_count(cfg), 4);
    wb_config_free(cfg);
}
END_TEST

START_TEST(short_betas_and_deep_nesting_are_explained) {
    wb_config *cfg = load("retinanet/retina_tiny_1x.conf");
    wb_config_override(cfg, "optimizer.betas=[0.9]");
    wb_config_validate(cfg, &fake_lookup);
    assert_error(cfg, "<command line>:1: error: optimizer.betas has 1 element; it needs exactly 2: [beta1, beta2]");
    wb_config_free(cfg);
    enum { DEPTH = 20000 };
    char *deep = malloc(2 * DEPTH + 16);
    size_t n = (size_t)sprintf(deep, "a = ");
    memset(deep + n, '(', DEPTH);
    memset(deep + n + DEPTH, ')', DEPTH);
    n += 2 * DEPTH;
    n += (size_t)sprintf(deep + n, ";\n");
    cfg = load_text("deep.conf", deep, n);
    assert_error_tail(cfg, "deep.conf:1: error: memory exhausted (groups and lists are nested too deeply for the "
                           "config parser)");
    wb_config_free(cfg);
    free(deep);
}
END_TEST

/* libconfig's time grows with the square of a group's size: 50000 keys took a minute. */
START_TEST(too_many_settings_end_at_once) {
    char *text = malloc(20 * 10002);
    size_t n = 0;
    for (int i = 0; i <= 10000; i++) n += (size_t)sprintf(text + n, "k%d = %d;\n", i, i);
    wb_config *cfg = load_text("many.conf", text, n);
    assert_error_tail(cfg, "many.conf:10001: error: more than 10000 settings in the experiment with its bases; is "
                           "this a config file?");
    ck_assert_int_eq(wb_config_error_count(cfg), 1);
    wb_config_free(cfg);
    free(text);
}
END_TEST

START_TEST(include_bomb_and_special_files_end_at_once) {
    /* b0 includes b1 32 times, b1 includes b2 32 times, ...: 32^6 reads if followed. */
    char text[2048];
    for (int k = 0; k < 6; k++) {
        size_t n = 0;
        for (int r = 0; r < 32; r++) n += (size_t)snprintf(text + n, sizeof text - n, "@include \"b%d.conf\"\n", k + 1);
        n += (size_t)snprintf(text + n, sizeof text - n, "k%d = %d;\n", k, k);
        char name[16];
        snprintf(name, sizeof name, "b%d.conf", k);
        write_conf(name, text, n);
    }
    write_conf("b6.conf", "seed = 1;\n", 10);
    char path[512];
    snprintf(path, sizeof path, "%s/b0.conf", scratch_dir());
    wb_config *cfg = wb_config_new();
    ck_assert_int_gt(wb_config_load(cfg, path), 0);
    assert_error_tail(cfg, "b5.conf:20: error: the experiment reads more than 256 files or 64 MiB with its @include "
                           "bases (a base counts each time it is included); include each base once");
    ck_assert_int_eq(wb_config_error_count(cfg), 1);
    wb_config_free(cfg);

    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/fifo.conf", scratch_dir());
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    static const char special[] = "@include \"/dev/zero\"\n@include \"fifo.conf\"\n@include \".\"\n";
    cfg = load_text("special.conf", special, sizeof special - 1);
    assert_error_tail(cfg, "special.conf:1: error: cannot read included file '/dev/zero': is a device; expected a "
                           "regular file");
    assert_error_tail(cfg, "fifo.conf': is a FIFO (named pipe); expected a regular file");
    assert_error_tail(cfg, "/.': is a directory; expected a regular file");
    wb_config_free(cfg);
    cfg = wb_config_new();
    wb_config_load(cfg, fifo);
    assert_error_tail(cfg, "fifo.conf: error: cannot read the config file: is a FIFO (named pipe); expected a regular "
                           "file");
    wb_config_free(cfg);
}
END_TEST

/* The app reads core ints into int (batch_size, intervals, milestones): their ranges must fit. */
static void assert_ints_fit(const wb_config_section *s) {
    for (const wb_param_schema *p = s->params; p && p->name; p++)
        if (p->type == WB_PARAM_INT || p->type == WB_PARAM_INT_LIST)
            ck_assert_msg(p->has_range && p->min >= INT32_MIN && p->max <= INT32_MAX, "%s: range beyond int", p->name);
    for (const wb_config_section *c = s->sections; c && c->name; c++) assert_ints_fit(c);
}

START_TEST(core_int_ranges_fit_an_int) { assert_ints_fit(wb_core_schema()); }
END_TEST

START_TEST(effective_config_replaces_a_symlink_not_its_target) {
    wb_config *cfg = load_valid("retinanet/retina_tiny_1x.conf");
    const char *victim = write_conf("victim.conf", "precious\n", 9);
    char victim_path[512], link[512], err[512];
    snprintf(victim_path, sizeof victim_path, "%s", victim);
    snprintf(link, sizeof link, "%s/config.conf", scratch_dir());
    ck_assert_int_eq(symlink(victim_path, link), 0);
    ck_assert_msg(wb_config_write(cfg, link, err, sizeof err) == 0, "%s", err);
    FILE *f = fopen(victim_path, "r");
    char buf[32] = "";
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    ck_assert_str_eq(buf, "precious\n");
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    wb_config_free(cfg);
}
END_TEST

static Suite *config_suite(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, include_base_from_subdirectory);
    tcase_add_test(tc, derived_file_overrides_its_bases);
    tcase_add_test(tc, changing_module_type_replaces_the_base_group);
    tcase_add_test(tc, defaults_are_filled_into_the_tree);
    tcase_add_test(tc, empty_work_dir_derives_from_file_name);
    tcase_add_test(tc, set_typed_values_and_nested_paths);
    tcase_add_test(tc, set_errors);
    tcase_add_test(tc, every_schema_error_is_reported_with_file_and_line);
    tcase_add_test(tc, missing_required_keys);
    tcase_add_test(tc, unknown_key_without_close_match_lists_known_keys);
    tcase_add_test(tc, null_schema_name_is_a_plugin_error);
    tcase_add_test(tc, plugin_schema_check);
    tcase_add_test(tc, core_schema_is_well_formed);
    tcase_add_test(tc, builtin_transform_schemas_are_well_formed);
    tcase_add_test(tc, parse_errors_point_at_file_and_line);
    tcase_add_test(tc, include_errors);
    tcase_add_test(tc, params_getters_read_the_validated_tree);
    tcase_add_test(tc, effective_config_round_trips);
    tcase_add_test(tc, reference_doc_lists_core_and_module_schemas);
    tcase_add_test(tc, nul_byte_and_open_comment_are_errors);
    tcase_add_test(tc, integers_keep_their_value);
    tcase_add_test(tc, range_errors_name_the_value_as_written);
    tcase_add_test(tc, set_list_index_is_checked_exactly);
    tcase_add_test(tc, fixed_size_lists_and_threads_have_limits);
    tcase_add_test(tc, include_bomb_and_special_files_end_at_once);
    tcase_add_test(tc, short_betas_and_deep_nesting_are_explained);
    tcase_add_test(tc, too_many_settings_end_at_once);
    tcase_add_test(tc, effective_config_replaces_a_symlink_not_its_target);
    tcase_add_test(tc, core_int_ranges_fit_an_int);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return wbt_run_suite(config_suite()); }
