/* Autoanchor against YOLOv5 7.0's own utils/autoanchor.py (tests/parity/gen_autoanchor.py) on the shared
 * coco128 (yolo plugin) and BCCD (voc plugin) training splits:
 *   - the box sizes read through the dataset plugins are YOLOv5's labels (same count per image), and with the
 *     random scales check_anchors drew the BPR and anchors/target of YOLOv5's default anchors equal its own
 *     values to 1e-4;
 *   - k-means + 1000 generations of evolution (seed 0) reach at least the BPR of YOLOv5's kmean_anchors on
 *     its seed 0, with a fitness within 1% of its fitness; our metric gives its anchors its own numbers.
 * Plus k-means on three separated blobs finds their centres. Exit 77 (skipped) without the yolov5 package or
 * the shared datasets, saying why. */
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "anchors/anchor_fit.h"
#include "anchors/box_sizes.h"
#include "config/params.h"
#include "wbtest.h"

#define SKIP_EXIT_CODE 77
#define SHARED WB_SOURCE_DIR "/../shared/datasets"

static const float k_default_anchors[18] = {10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326};

typedef struct dataset_case {
    const char *name, *type, *config;
} dataset_case;

static const dataset_case k_coco128 = {"coco128", "yolo",
    "data_root = \"" SHARED "/coco128\"; images = \"images/train2017\"; names_file = \"data.yaml\";"};
static const dataset_case k_bccd = {"bccd", "voc",
    "data_root = \"" SHARED "/bccd\"; split = \"ImageSets/Main/train.txt\"; classes = [\"RBC\", \"WBC\", \"Platelets\"];"};

/* The training split's box sizes through its dataset plugin. */
static void read_sizes(const dataset_case *d, wb_box_sizes *b) {
    wbt_env env;
    wbt_env_init(&env, NULL, 1);
    const wb_dataset_vtable *vt = wbt_dataset_plugin(WB_PLUGIN_BUILD_DIR, d->type);
    config_t cfg;
    config_init(&cfg);
    ck_assert_msg(config_read_string(&cfg, d->config) == CONFIG_TRUE, "%s", config_error_text(&cfg));
    void *ds = NULL;
    ck_assert_msg(vt->open(env.ctx, wb_params_of(config_root_setting(&cfg)), &ds) == WB_OK, "%s", env.c.msg);
    char err[1024];
    ck_assert_msg(wb_box_sizes_read(vt, ds, &env.c, b, err, sizeof err) == WB_OK, "%s", err);
    vt->close(ds);
    config_destroy(&cfg);
    wbt_env_free(&env);
}

static const char *stem_of(const char *path, char *out, size_t size) {
    const char *base = strrchr(path, '/');
    snprintf(out, size, "%s", base ? base + 1 : path);
    char *dot = strrchr(out, '.');
    if (dot) *dot = 0;
    return out;
}

/* check_anchors' per-image scales, in our image order; asserts YOLOv5 has the same images and box counts. */
static double *yolov5_scales(const wb_st_file *f, const wb_box_sizes *b, const char *name) {
    double *scales = malloc(sizeof *scales * (size_t)b->n_images);
    ck_assert_ptr_nonnull(scales);
    ck_assert_msg(wbt_parity_attr(f, "images") == (double)b->n_images, "%s: YOLOv5 has %g images, we %lld", name,
                  wbt_parity_attr(f, "images"), (long long)b->n_images);
    for (int64_t i = 0; i < b->n_images; i++) {
        char stem[512], key[600];
        ck_assert_ptr_nonnull(b->images[i].path);
        stem_of(b->images[i].path, stem, sizeof stem);
        snprintf(key, sizeof key, "count:%s", stem);
        const float *count = wbt_parity_tensor(f, key, 1);
        ck_assert_msg(count[0] == (float)b->images[i].count, "%s %s: YOLOv5 has %g boxes, we %lld", name, stem,
                      count[0], (long long)b->images[i].count);
        snprintf(key, sizeof key, "scale:%s", stem);
        const float *s = wbt_parity_tensor(f, key, 2);
        scales[i] = (double)s[0] + (double)s[1];
    }
    return scales;
}

static void check_bpr(const dataset_case *d) {
    char case_name[64];
    snprintf(case_name, sizeof case_name, "autoanchor_%s_check", d->name);
    wb_st_file f;
    ck_assert_msg(wbt_parity_open(case_name, &f), "no parity case %s", case_name);
    wb_box_sizes b;
    read_sizes(d, &b);
    double *scales = yolov5_scales(&f, &b, d->name);
    float *wh = malloc(sizeof *wh * 2 * (size_t)b.n);
    ck_assert_ptr_nonnull(wh);
    wb_box_sizes_scaled(&b, 640, scales, wh);
    wb_anchor_fit fit = wb_anchor_fit_of(wh, b.n, k_default_anchors, 9, 4.0f);
    double bpr = wbt_parity_attr(&f, "bpr"), aat = wbt_parity_attr(&f, "aat");
    printf("%s: %lld boxes, BPR %.6f (YOLOv5 %.6f), anchors/target %.6f (YOLOv5 %.6f)\n", d->name, (long long)b.n,
           fit.bpr, bpr, fit.aat, aat);
    ck_assert_msg(fabs(fit.bpr - bpr) <= 1e-4, "%s: BPR %.6f, YOLOv5 %.6f", d->name, fit.bpr, bpr);
    ck_assert_msg(fabs(fit.aat - aat) <= 1e-4, "%s: anchors/target %.6f, YOLOv5 %.6f", d->name, fit.aat, aat);
    free(wh);
    free(scales);
    wb_box_sizes_free(&b);
    wb_st_free(&f);
}

/* Fitness over sizes with a side of at least 2 px, as kmean_anchors filters them. */
static double fitness_of(const float *wh, int64_t n, const float *anchors) {
    float *kept = malloc(sizeof *kept * 2 * (size_t)n);
    ck_assert_ptr_nonnull(kept);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (wh[2 * i] >= 2.0f || wh[2 * i + 1] >= 2.0f) kept[2 * m] = wh[2 * i], kept[2 * m + 1] = wh[2 * i + 1], m++;
    double f = wb_anchor_fitness(kept, m, anchors, 9, 4.0f);
    free(kept);
    return f;
}

static void check_search(const dataset_case *d) {
    char case_name[64];
    snprintf(case_name, sizeof case_name, "autoanchor_%s_kmeans", d->name);
    wb_st_file f;
    ck_assert_msg(wbt_parity_open(case_name, &f), "no parity case %s", case_name);
    const float *theirs = wbt_parity_tensor(&f, "anchors", 18);
    wb_box_sizes b;
    read_sizes(d, &b);
    float *wh = malloc(sizeof *wh * 2 * (size_t)b.n), ours[18];
    ck_assert_ptr_nonnull(wh);
    wb_box_sizes_scaled(&b, 640, NULL, wh);
    uint64_t rng = wb_rng_seed_for(0, "autoanchor");
    double fitness = wb_anchor_search(wh, b.n, 9, 4.0f, 640, 1000, &rng, ours);
    double bpr = wb_anchor_fit_of(wh, b.n, ours, 9, 4.0f).bpr;
    double their_bpr = wbt_parity_attr(&f, "bpr"), their_fitness = wbt_parity_attr(&f, "fitness");
    /* our metric on YOLOv5's anchors gives YOLOv5's own numbers */
    ck_assert_double_eq_tol(wb_anchor_fit_of(wh, b.n, theirs, 9, 4.0f).bpr, their_bpr, 1e-6);
    ck_assert_double_eq_tol(fitness_of(wh, b.n, theirs), their_fitness, 1e-5);
    ck_assert_double_eq_tol(fitness_of(wh, b.n, ours), fitness, 1e-9);
    printf("%s: k-means + evolution BPR %.6f (YOLOv5 %.6f), fitness %.6f (YOLOv5 %.6f, %+.3f%%); anchors", d->name,
           bpr, their_bpr, fitness, their_fitness, 100.0 * (fitness / their_fitness - 1.0));
    for (int i = 0; i < 9; i++) printf(" %.0f,%.0f", ours[2 * i], ours[2 * i + 1]);
    printf(" (YOLOv5");
    for (int i = 0; i < 9; i++) printf(" %.0f,%.0f", theirs[2 * i], theirs[2 * i + 1]);
    printf(")\n");
    ck_assert_msg(bpr >= their_bpr, "%s: BPR %.6f below YOLOv5's %.6f", d->name, bpr, their_bpr);
    ck_assert_msg(fabs(fitness - their_fitness) <= 0.01 * their_fitness, "%s: fitness %.6f, YOLOv5 %.6f", d->name,
                  fitness, their_fitness);
    for (int i = 1; i < 9; i++)
        ck_assert_msg(ours[2 * i] * ours[2 * i + 1] >= ours[2 * i - 2] * ours[2 * i - 1], "anchors not by area");
    free(wh);
    wb_box_sizes_free(&b);
    wb_st_free(&f);
}

START_TEST(test_coco128_bpr_matches_yolov5) { check_bpr(&k_coco128); }
END_TEST

START_TEST(test_bccd_bpr_matches_yolov5) { check_bpr(&k_bccd); }
END_TEST

START_TEST(test_coco128_search_reaches_yolov5) { check_search(&k_coco128); }
END_TEST

START_TEST(test_bccd_search_reaches_yolov5) { check_search(&k_bccd); }
END_TEST

/* Three tight blobs far apart: k-means finds their centres whatever the restarts draw. */
START_TEST(test_kmeans_finds_blob_centres) {
    static const float centres[3][2] = {{10, 20}, {100, 60}, {300, 400}};
    float wh[2 * 300], out[6];
    uint64_t rng = 7;
    for (int i = 0; i < 300; i++) {
        const float *c = centres[i % 3];
        wh[2 * i] = c[0] * (0.98f + 0.04f * wb_rng_uniform(&rng));
        wh[2 * i + 1] = c[1] * (0.98f + 0.04f * wb_rng_uniform(&rng));
    }
    ck_assert(wb_anchor_kmeans(wh, 300, 3, &rng, out));
    wb_anchor_sort_by_area(out, 3);
    for (int k = 0; k < 3; k++)
        for (int a = 0; a < 2; a++)
            ck_assert_msg(fabsf(out[2 * k + a] - centres[k][a]) < 0.01f * centres[k][a], "centre %d: %g, %g", k,
                          out[2 * k], out[2 * k + 1]);
    ck_assert(!wb_anchor_kmeans(wh, 2, 3, &rng, out)); /* fewer sizes than anchors */
}
END_TEST

int main(void) {
    char why[1024];
    bool skip = wbt_parity_unavailable("autoanchor_unavailable", why, sizeof why);
    Suite *s = suite_create("autoanchor");
    TCase *tc = tcase_create("autoanchor");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_kmeans_finds_blob_centres);
    if (!skip) {
        tcase_add_test(tc, test_coco128_bpr_matches_yolov5);
        tcase_add_test(tc, test_bccd_bpr_matches_yolov5);
        tcase_add_test(tc, test_coco128_search_reaches_yolov5);
        tcase_add_test(tc, test_bccd_search_reaches_yolov5);
    }
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    if (rc == 0 && skip) {
        printf("SKIPPED: autoanchor against YOLOv5 not run: %s\n", why);
        return SKIP_EXIT_CODE;
    }
    return rc;
}
