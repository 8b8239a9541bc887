/* What results files say about their ids: datasets without ids of their own
 * (voc, yolo, synthetic) number categories 1..K in class order, and the
 * companions written beside a results file (<results>.categories.json,
 * <results>.images.json) hold exactly the COCO blocks that explain them. The
 * whole path (eval --out and infer against pycocotools on a COCO conversion of
 * VOC annotations) is tests/e2e/voc_results_coco.sh. */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/params.h"
#include "eval/coco_json.h"
#include "wbtest.h"

#define TMP WB_BINARY_DIR "/test_results_files_tmp"

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

START_TEST(companion_path_replaces_the_json_suffix) {
    char out[256];
    wb_coco_companion_path("work/results.json", "categories", out, sizeof out);
    ck_assert_str_eq(out, "work/results.categories.json");
    wb_coco_companion_path("bccd_val", "categories", out, sizeof out);
    ck_assert_str_eq(out, "bccd_val.categories.json");
    wb_coco_companion_path("a.json.json", "images", out, sizeof out);
    ck_assert_str_eq(out, "a.json.images.json");
}
END_TEST

START_TEST(companions_hold_the_coco_blocks) {
    ck_assert_int_eq(system("rm -rf '" TMP "' && mkdir -p '" TMP "'"), 0);
    char err[512];
    wb_coco_category cats[] = {{1, "RBC"}, {2, "WBC"}, {3, "红细胞 \"quoted\""}};
    ck_assert_msg(wb_coco_categories_save(TMP "/r.categories.json", cats, 3, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_str_eq(read_all(TMP "/r.categories.json"),
                     "{\"categories\":[{\"id\":1,\"name\":\"RBC\"},{\"id\":2,\"name\":\"WBC\"},"
                     "{\"id\":3,\"name\":\"红细胞 \\\"quoted\\\"\"}]}\n");
    wb_coco_image_info images[] = {{139, "coco/000000000139.jpg", 640, 426}, {0, "a b.png", 1, 2}};
    ck_assert_msg(wb_coco_images_save(TMP "/r.images.json", images, 2, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_str_eq(read_all(TMP "/r.images.json"),
                     "{\"images\":[{\"id\":139,\"file_name\":\"coco/000000000139.jpg\",\"width\":640,\"height\":426},"
                     "{\"id\":0,\"file_name\":\"a b.png\",\"width\":1,\"height\":2}]}\n");
    ck_assert_msg(wb_coco_images_save(TMP "/no/such/dir/r.images.json", images, 2, err, sizeof err) == WB_ERR_IO,
                  "writing into a missing folder must fail");
    ck_assert_msg(strstr(err, TMP "/no/such/dir/r.images.json: cannot write the image list") != NULL, "%s", err);
}
END_TEST

/* Opens dataset plugin `type` with params and checks category_id(k) == k + 1. */
static void check_one_based(const char *type, const char *params, int classes) {
    wbt_env env;
    wbt_env_init(&env, NULL, 1);
    const wb_dataset_vtable *vt = wbt_dataset_plugin(WB_PLUGIN_BUILD_DIR, type);
    config_t cfg;
    config_init(&cfg);
    ck_assert(config_read_string(&cfg, params) == CONFIG_TRUE);
    void *ds = NULL;
    ck_assert_msg(vt->open(env.ctx, wb_params_of(config_root_setting(&cfg)), &ds) == WB_OK, "%s: %s", type,
                  env.c.msg);
    ck_assert_int_eq(vt->num_classes(ds), classes);
    for (int k = 0; k < classes; k++) ck_assert_int_eq(vt->category_id(ds, k), k + 1);
    vt->close(ds);
    config_destroy(&cfg);
    wbt_env_free(&env);
}

START_TEST(datasets_without_ids_number_categories_from_one) {
    ck_assert_int_eq(system("rm -rf '" TMP "/yolo' && mkdir -p '" TMP "/yolo/images' '" TMP "/yolo/labels' && "
                            "touch '" TMP "/yolo/images/a.jpg' && echo '1 0.5 0.5 0.2 0.2' > '" TMP
                            "/yolo/labels/a.txt'"),
                     0);
    check_one_based("yolo", "images = \"" TMP "/yolo/images\"; names = [\"person\", \"bicycle\", \"car\"];", 3);
    check_one_based("synthetic", "num_images = 2; num_classes = 3;", 3);
    struct stat sb;
    if (stat(WB_SOURCE_DIR "/../shared/datasets/bccd", &sb) == 0)
        check_one_based("voc", "root = \"" WB_SOURCE_DIR "/../shared/datasets/bccd\"; split = "
                               "\"ImageSets/Main/val.txt\"; classes = [\"RBC\", \"WBC\", \"Platelets\"];", 3);
    else
        printf("voc: ../shared/datasets/bccd is missing; voc's ids are checked by tests/e2e/voc_results_coco.sh\n");
}
END_TEST

int main(void) {
    Suite *s = suite_create("results_files");
    TCase *tc = tcase_create("ids");
    tcase_add_test(tc, companion_path_replaces_the_json_suffix);
    tcase_add_test(tc, companions_hold_the_coco_blocks);
    tcase_add_test(tc, datasets_without_ids_number_categories_from_one);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
