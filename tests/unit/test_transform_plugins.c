/* Transform plugins (WB_KIND_TRANSFORM) and the in-tree blur, median_blur,
 * to_gray and clahe: OpenCV's output (what albumentations calls) and
 * Pillow's where it means the same, to 1 grey level (tests/parity/
 * gen_transform_plugins.py); boxes untouched; the same seed gives the same
 * pixels, on any thread; the loader's refusals (a step after the pixels
 * went float, descriptors that break the contract); the out-of-tree example
 * tp_solarize loads and inverts what it should. */
#include <libconfig.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/params.h"
#include "data/transforms.h"
#include "plugin/registry.h"
#include "../../plugins/transforms/clahe/clahe_plane.h"
#include "../../plugins/transforms/clahe/lab.h"
#include "wbtest.h"

static wb_registry *g_reg;

static const wb_module_desc *find_plugin(void *user, const char *type) {
    return wb_registry_find(user, WB_KIND_TRANSFORM, type);
}

static void load_plugins(void) {
    g_reg = wb_registry_new();
    const char *names[] = {"blur", "median_blur", "to_gray", "clahe"};
    for (int i = 0; i < 4; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/wb_transform_%s.so", WB_PLUGIN_BUILD_DIR, names[i]);
        ck_assert_msg(wb_registry_load_file(g_reg, path, "test") == WB_OK, "%s: %s", path,
                      wb_registry_plugin(g_reg, wb_registry_num_plugins(g_reg) - 1)->reason);
    }
}

static void free_plugins(void) { wb_registry_free(g_reg); }

/* A pipeline from a libconfig list of steps, plugins allowed. */
static wb_pipeline *pipeline_of(const char *steps_text, char *err, size_t n) {
    config_t cfg;
    config_init(&cfg);
    char text[1024];
    snprintf(text, sizeof text, "steps = ( %s );", steps_text);
    ck_assert_msg(config_read_string(&cfg, text), "bad test config: %s", config_error_text(&cfg));
    config_setting_t *list = config_lookup(&cfg, "steps");
    const wb_params *steps[8];
    int k = config_setting_length(list);
    for (int i = 0; i < k; i++) steps[i] = wb_params_of(config_setting_get_elem(list, (unsigned)i));
    wb_transform_plugins plugins = {g_reg, find_plugin};
    wb_pipeline *p = wb_pipeline_create_with(steps, k, &plugins, err, n);
    config_destroy(&cfg);
    return p;
}

static wb_pipeline *must_pipeline(const char *steps_text) {
    char err[512] = "";
    wb_pipeline *p = pipeline_of(steps_text, err, sizeof err);
    ck_assert_msg(p != NULL, "%s: %s", steps_text, err);
    return p;
}

static const float k_boxes[8] = {3.5f, 4.25f, 20.0f, 30.0f, 10.0f, 1.0f, 52.0f, 36.0f};
static const int k_labels[2] = {2, 0};

/* A sample of the reference image (37 x 53) with two boxes. */
static void load_sample(wb_data_sample *s, const float *img, int h, int w) {
    uint8_t *rgb = malloc((size_t)h * w * 3);
    for (size_t i = 0; i < (size_t)h * w * 3; i++) rgb[i] = (uint8_t)img[i];
    ck_assert(wb_data_sample_load(s, rgb, h, w, h, w, k_boxes, k_labels, NULL, 2));
    free(rgb);
}

static void run(const wb_pipeline *p, wb_data_sample *s, uint64_t seed) {
    char err[512] = "";
    uint64_t rng = seed;
    ck_assert_msg(wb_pipeline_apply(p, 0, -1, s, &rng, NULL, err, sizeof err) == WB_OK, "%s", err);
}

/* Every value within tol grey levels of the reference (channels: 3 or 1, the first of ours). */
static void assert_near(const char *what, const uint8_t *ours, const float *ref, int h, int w, int ref_channels,
                        int tol) {
    int worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < (size_t)h * w * ref_channels; i++) {
        size_t o = ref_channels == 3 ? i : i * 3;
        int d = abs((int)ours[o] - (int)ref[i]);
        if (d > worst) worst = d, at = i;
    }
    ck_assert_msg(worst <= tol, "%s: value %zu is %d, the reference %g (%d levels apart, at most %d allowed)",
                  what, at, ours[ref_channels == 3 ? at : at * 3], ref[at], worst, tol);
}

/* OpenCV turns L*a*b* back into bytes through integer tables (4.6's
 * Lab2RGBinteger) that our floating-point lab.c does not reproduce: over
 * all 16.7M L*a*b* bytes, 6 in a million land 2 levels from cv2, the rest
 * within 1. So where Lab -> RGB is involved: within 1 level for all but a
 * thousandth of the values, within 2 for every one. */
static void assert_near_lab(const char *what, const uint8_t *ours, const float *ref, int n_values) {
    int two = 0;
    for (int i = 0; i < n_values; i++) {
        int d = abs((int)ours[i] - (int)ref[i]);
        ck_assert_msg(d <= 2, "%s: value %d is %d, the reference %g", what, i, ours[i], ref[i]);
        two += d == 2;
    }
    ck_assert_msg(two * 1000 <= n_values, "%s: %d of %d values are 2 levels from the reference", what, two,
                  n_values);
}

static void assert_boxes_kept(const wb_data_sample *s) {
    ck_assert_int_eq(s->num_boxes, 2);
    ck_assert_mem_eq(s->boxes, k_boxes, sizeof k_boxes);
    ck_assert_mem_eq(s->labels, k_labels, sizeof k_labels);
}

/* One step at p = 1 with a fixed size, against its reference. */
static void check_reference(const wb_st_file *f, const char *step, const char *ref_name, int ref_channels) {
    const int h = 37, w = 53;
    const float *img = wbt_parity_tensor(f, "img", h * w * 3);
    const float *ref = wbt_parity_tensor(f, ref_name, (int64_t)h * w * ref_channels);
    wb_pipeline *p = must_pipeline(step);
    wb_data_sample s = {0};
    load_sample(&s, img, h, w);
    run(p, &s, 7);
    ck_assert_int_eq(s.h, h);
    ck_assert_int_eq(s.w, w);
    ck_assert(!s.is_float);
    if (strstr(step, "clahe")) assert_near_lab(ref_name, s.img8, ref, h * w * 3);
    else assert_near(ref_name, s.img8, ref, h, w, ref_channels, 1);
    assert_boxes_kept(&s);
    wb_data_sample_free(&s);
    wb_pipeline_destroy(p);
}

START_TEST(test_opencv_and_pillow) {
    wb_st_file f;
    if (!wbt_parity_open("transform_plugins", &f)) return;
    load_plugins();
    char step[128], ref[32];
    for (int k = 3; k <= 7; k += 2) {
        snprintf(step, sizeof step, "{ type = \"blur\"; p = 1.0; blur_limit = [%d, %d]; }", k, k);
        snprintf(ref, sizeof ref, "blur_k%d", k);
        check_reference(&f, step, ref, 3);
        snprintf(step, sizeof step, "{ type = \"median_blur\"; p = 1.0; blur_limit = [%d, %d]; }", k, k);
        snprintf(ref, sizeof ref, "median_k%d", k);
        check_reference(&f, step, ref, 3);
        snprintf(ref, sizeof ref, "pil_median_k%d", k);
        check_reference(&f, step, ref, 3);
    }
    check_reference(&f, "{ type = \"to_gray\"; p = 1.0; }", "gray_cv", 3);
    check_reference(&f, "{ type = \"to_gray\"; p = 1.0; }", "gray_pil", 1);
    check_reference(&f, "{ type = \"clahe\"; p = 1.0; clip_limit = [2.0, 2.0]; }", "clahe_rgb_c2", 3);
    free_plugins();
    wb_st_free(&f);
}
END_TEST

/* The pieces of clahe on their own: OpenCV's CLAHE of one plane (tiles that
 * divide the image and tiles that need its reflected border) and the
 * L*a*b* conversions. */
START_TEST(test_clahe_pieces) {
    wb_st_file f;
    if (!wbt_parity_open("transform_plugins", &f)) return;
    const struct { const char *name; int h, w; } planes[] = {{"odd", 37, 53}, {"even", 64, 48}};
    for (int i = 0; i < 2; i++) {
        int h = planes[i].h, w = planes[i].w;
        char key[32];
        snprintf(key, sizeof key, "plane_%s", planes[i].name);
        const float *plane = wbt_parity_tensor(&f, key, h * w);
        for (double clip = 1.0; clip <= 4.0; clip += 1.5) {
            uint8_t *v = malloc((size_t)h * w * 3);
            for (int j = 0; j < h * w; j++) v[3 * j] = (uint8_t)plane[j];
            ck_assert_int_eq(clahe_plane(v, h, w, 3, clip, 8, 8), 0);
            snprintf(key, sizeof key, "clahe_%s_c%g", planes[i].name, clip);
            if (clip == 1.0 || clip == 4.0) snprintf(key, sizeof key, "clahe_%s_c%.1f", planes[i].name, clip);
            assert_near(key, v, wbt_parity_tensor(&f, key, h * w), h, w, 1, 1);
            free(v);
        }
    }
    const int n = 37 * 53;
    const float *img = wbt_parity_tensor(&f, "img", n * 3), *lab = wbt_parity_tensor(&f, "lab", n * 3);
    const float *back = wbt_parity_tensor(&f, "rgb_of_lab", n * 3);
    lab_tables t;
    lab_tables_init(&t);
    uint8_t *ours = malloc((size_t)n * 3), *ours_back = malloc((size_t)n * 3);
    for (int j = 0; j < n; j++) {
        uint8_t rgb[3] = {(uint8_t)img[3 * j], (uint8_t)img[3 * j + 1], (uint8_t)img[3 * j + 2]};
        uint8_t cv_lab[3] = {(uint8_t)lab[3 * j], (uint8_t)lab[3 * j + 1], (uint8_t)lab[3 * j + 2]};
        lab_from_rgb(&t, rgb, ours + 3 * j);
        rgb_from_lab(cv_lab, ours_back + 3 * j);
    }
    assert_near("rgb -> lab", ours, lab, 37, 53, 3, 1);
    assert_near_lab("lab -> rgb", ours_back, back, n * 3);
    free(ours);
    free(ours_back);
    wb_st_free(&f);
}
END_TEST

/* A synthetic 40 x 60 picture (no parity file needed). */
static void synthetic_sample(wb_data_sample *s) {
    float *img = malloc(40 * 60 * 3 * sizeof *img);
    uint64_t r = 99;
    for (int i = 0; i < 40 * 60 * 3; i++) img[i] = (float)(wb_rng_next(&r) % 256);
    load_sample(s, img, 40, 60);
    free(img);
}

static const char *const k_random_steps =
    "{ type = \"blur\"; p = 0.5; blur_limit = [3, 7]; }, { type = \"median_blur\"; p = 0.5; },"
    "{ type = \"to_gray\"; p = 0.3; }, { type = \"clahe\"; p = 0.5; }";

static uint64_t digest(const wb_data_sample *s) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < (size_t)s->h * s->w * 3; i++) h = (h ^ s->img8[i]) * 1099511628211ull;
    return h;
}

/* The same (seed, index) stream gives the same pixels; other streams give other draws. */
START_TEST(test_deterministic) {
    load_plugins();
    wb_pipeline *p = must_pipeline(k_random_steps);
    uint64_t seen[16];
    int distinct = 0;
    for (int index = 0; index < 16; index++) {
        uint64_t d[2];
        for (int rep = 0; rep < 2; rep++) {
            wb_data_sample s = {0};
            synthetic_sample(&s);
            run(p, &s, wb_transform_rng(42, 3, index));
            assert_boxes_kept(&s);
            d[rep] = digest(&s);
            wb_data_sample_free(&s);
        }
        ck_assert_msg(d[0] == d[1], "sample %d: two runs with one seed differ", index);
        int j = 0;
        while (j < distinct && seen[j] != d[0]) j++;
        if (j == distinct) seen[distinct++] = d[0];
    }
    /* four steps of p 0.3..0.5 with random sizes: 16 samples cannot all look alike */
    ck_assert_int_ge(distinct, 8);
    wb_pipeline_destroy(p);
    free_plugins();
}
END_TEST

typedef struct job {
    const wb_pipeline *p;
    int first;
    uint64_t digests[8];
} job;

static void *apply_many(void *arg) {
    job *j = arg;
    for (int i = 0; i < 8; i++) {
        wb_data_sample s = {0};
        synthetic_sample(&s);
        run(j->p, &s, wb_transform_rng(7, 0, j->first + i));
        j->digests[i] = digest(&s);
        wb_data_sample_free(&s);
    }
    return NULL;
}

/* One instance per step, applied from several threads at once, as the loader does. */
START_TEST(test_threads) {
    load_plugins();
    wb_pipeline *p = must_pipeline(k_random_steps);
    job serial = {p, 0, {0}}, par[2] = {{p, 0, {0}}, {p, 0, {0}}};
    apply_many(&serial);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, apply_many, &par[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) ck_assert_mem_eq(par[i].digests, serial.digests, sizeof serial.digests);
    wb_pipeline_destroy(p);
    free_plugins();
}
END_TEST

START_TEST(test_refusals) {
    load_plugins();
    char err[512] = "";
    /* the pixels are float after normalize: the 8-bit contract cannot hold */
    wb_pipeline *p = must_pipeline("{ type = \"normalize\"; }, { type = \"to_gray\"; p = 1.0; }");
    wb_data_sample s = {0};
    synthetic_sample(&s);
    uint64_t rng = 1;
    ck_assert(wb_pipeline_apply(p, 0, -1, &s, &rng, NULL, err, sizeof err) == WB_ERR_INVALID);
    ck_assert_msg(strstr(err, "transform to_gray: needs 8-bit pixels") && strstr(err, "move it before"), "%s", err);
    wb_data_sample_free(&s);
    wb_pipeline_destroy(p);
    /* a parameter the plugin refuses in create() */
    ck_assert_ptr_null(pipeline_of("{ type = \"blur\"; blur_limit = [4, 7]; }", err, sizeof err));
    ck_assert_msg(strstr(err, "pipeline step 1 (blur): blur_limit [4, 7]: both sizes must be odd"), "%s", err);
    /* without the registry the type is unknown */
    config_t cfg;
    config_init(&cfg);
    ck_assert(config_read_string(&cfg, "type = \"blur\";"));
    const wb_params *one = wb_params_of(config_root_setting(&cfg));
    ck_assert_ptr_null(wb_pipeline_create(&one, 1, err, sizeof err));
    ck_assert_msg(strstr(err, "unknown transform type 'blur'"), "%s", err);
    config_destroy(&cfg);
    free_plugins();
}
END_TEST

static wb_status noop_apply(void *instance, wb_ctx *ctx, wb_transform_sample *s, wb_rng *rng) {
    (void)instance, (void)ctx, (void)s, (void)rng;
    return WB_OK;
}

/* Descriptors that break the contract are rejected with the reason. */
START_TEST(test_manifest_checks) {
    static const wb_transform_vtable ok_vt = {sizeof ok_vt, NULL, noop_apply, NULL};
    static const wb_transform_vtable no_apply = {sizeof no_apply, NULL, NULL, NULL};
    static const wb_transform_vtable half = {sizeof half, NULL, noop_apply, (void (*)(void *))free};
    const struct { const char *type; const wb_transform_vtable *vt; const char *reason; } cases[] = {
        {"resize", &ok_vt, "has the name of a built-in transform"},
        {"my_noop", NULL, "NULL transform vtable"},
        {"my_noop", &no_apply, "vtable function apply is NULL"},
        {"my_noop", &half, "create and destroy come together"},
        {"my_noop", &ok_vt, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wb_module_desc d = {sizeof d, WB_KIND_TRANSFORM, cases[i].type, "test", 0, NULL, NULL, NULL, cases[i].vt};
        const wb_module_desc *mods[] = {&d};
        wb_plugin_manifest m = {sizeof m, WB_ABI_MAJOR, WB_ABI_MINOR, WB_ABI_MINOR, "t", "1", "MIT", mods, 1};
        wb_registry *reg = wb_registry_new();
        wb_status st = wb_registry_add_manifest(reg, &m, "test");
        if (!cases[i].reason) {
            ck_assert_msg(st == WB_OK, "%s", wb_registry_error(reg));
            ck_assert_ptr_eq(wb_registry_find(reg, WB_KIND_TRANSFORM, "my_noop"), &d);
        } else {
            ck_assert(st != WB_OK);
            ck_assert_msg(strstr(wb_registry_plugin(reg, 0)->reason, cases[i].reason), "%s",
                          wb_registry_plugin(reg, 0)->reason);
        }
        wb_registry_free(reg);
    }
}
END_TEST

/* examples/plugins/transform/tp_solarize, built from its source as a fixture: a third party's transform. */
START_TEST(test_example_solarize) {
    load_plugins();
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/tp_solarize.so", WB_FIXTURE_DIR);
    ck_assert_msg(wb_registry_load_file(g_reg, path, "test") == WB_OK, "%s",
                  wb_registry_plugin(g_reg, wb_registry_num_plugins(g_reg) - 1)->reason);
    for (int p = 0; p <= 1; p++) {
        char step[128];
        snprintf(step, sizeof step, "{ type = \"tp_solarize\"; p = %d.0; threshold = 100; }", p);
        wb_pipeline *pipe = must_pipeline(step);
        wb_data_sample s = {0}, orig = {0};
        synthetic_sample(&s);
        synthetic_sample(&orig);
        run(pipe, &s, 5);
        for (size_t i = 0; i < 40 * 60 * 3; i++) {
            int v = orig.img8[i], want = p && v >= 100 ? 255 - v : v;
            ck_assert_msg(s.img8[i] == want, "p %d: value %zu is %d, want %d", p, i, s.img8[i], want);
        }
        assert_boxes_kept(&s);
        wb_data_sample_free(&s);
        wb_data_sample_free(&orig);
        wb_pipeline_destroy(pipe);
    }
    free_plugins();
}
END_TEST

int main(void) {
    Suite *s = suite_create("transform_plugins");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_opencv_and_pillow);
    tcase_add_test(tc, test_clahe_pieces);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_manifest_checks);
    tcase_add_test(tc, test_example_solarize);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
