/* Hostile annotation files, generated here, against every reader of their
 * format: training (the dataset plugin), the dataset doctor (`workbench
 * check`) and, for COCO, evaluation. Each must refuse with the same message
 * (or accept alike), never crash, hang on a FIFO or truncate a value. */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/report.h"
#include "check/scanners.h"
#include "config/params.h"
#include "data/image_write.h"
#include "eval/coco_json.h"
#include "formats/coco/json_pull.h"
#include "wbtest.h"

#define TMP WB_BINARY_DIR "/test_datasets_hostile_tmp"

/* Opens dataset `type` with cfg_text; the message when it fails, "" when it opens. */
static void train_verdict(const char *type, const char *cfg_text, char *msg, size_t n) {
    wbt_env env;
    wbt_env_init(&env, NULL, 1);
    config_t cfg;
    config_init(&cfg);
    ck_assert_msg(config_read_string(&cfg, cfg_text) == CONFIG_TRUE, "bad test config: %s", cfg_text);
    const wb_dataset_vtable *vt = wbt_dataset_plugin(WB_PLUGIN_BUILD_DIR, type);
    void *ds = NULL;
    wb_status st = vt->open(env.ctx, wb_params_of(config_root_setting(&cfg)), &ds);
    snprintf(msg, n, "%s", st == WB_OK ? "" : env.c.msg);
    if (ds) vt->close(ds);
    config_destroy(&cfg);
    wbt_env_free(&env);
}

/* The doctor's report of the same dataset group. */
static void check_report(wb_scanner_fn scan, const char *cfg_text, wb_check_report *r) {
    config_t cfg;
    config_init(&cfg);
    ck_assert(config_read_string(&cfg, cfg_text) == CONFIG_TRUE);
    memset(r, 0, sizeof *r);
    char err[512];
    ck_assert_msg(scan(wb_params_of(config_root_setting(&cfg)), NULL, r, err, sizeof err), "%s", err);
    config_destroy(&cfg);
}

static bool reported(const wb_check_report *r, wb_defect kind, const char *fragment) {
    for (int i = 0; i < WB_CHECK_EXAMPLES && i < r->count[kind]; i++)
        if (strstr(r->example[kind][i], fragment)) return true;
    return false;
}

static const char *write_file(const char *name, const char *text, size_t n) {
    static char path[512];
    mkdir(TMP, 0755);
    snprintf(path, sizeof path, "%s/%s", TMP, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, n, f), n);
    fclose(f);
    return path;
}

#define IMAGES "\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 32, \"height\": 24}]"
#define CATS "\"categories\": [{\"id\": 1, \"name\": \"thing\"}]"
#define ANNS "\"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [2, 2, 10, 10]}]"

/* COCO at path: training, check and eval all refuse, each message holding expect. */
static void coco_refused_everywhere(const char *path, const char *expect) {
    char cfg[1024], msg[1024], err[1024];
    snprintf(cfg, sizeof cfg, "ann_file = \"%s\"; img_dir = \"%s\";", path, TMP);
    train_verdict("coco", cfg, msg, sizeof msg);
    printf("training: %s\n", msg);
    ck_assert_msg(strstr(msg, expect), "training: '%s' lacks '%s'", msg, expect);
    wb_check_report r;
    check_report(wb_scan_coco, cfg, &r);
    printf("check:    %s\n", r.example[WB_DEFECT_BAD_ANNOTATION][0]);
    ck_assert_msg(reported(&r, WB_DEFECT_BAD_ANNOTATION, expect), "check: '%s' lacks '%s'",
                  r.example[WB_DEFECT_BAD_ANNOTATION][0], expect);
    wb_coco_gt gt;
    ck_assert_int_eq(wb_coco_gt_load(path, &gt, err, sizeof err), WB_ERR_IO);
    printf("eval:     %s\n", err);
    ck_assert_msg(strstr(err, expect), "eval: '%s' lacks '%s'", err, expect);
}

static void coco_text_refused(const char *json, const char *expect) {
    coco_refused_everywhere(write_file("hostile.json", json, strlen(json)), expect);
}

START_TEST(coco_deep_nesting_is_refused_not_a_stack_overflow) {
    size_t depth = 1000000, n = 0;
    char *json = malloc(2 * depth + 256);
    ck_assert_ptr_nonnull(json);
    n += (size_t)sprintf(json, "{" IMAGES ", " CATS ", " ANNS ", \"info\": ");
    memset(json + n, '[', depth), n += depth;
    memset(json + n, ']', depth), n += depth;
    json[n++] = '}';
    coco_refused_everywhere(write_file("deep.json", json, n), "nesting deeper than 64 levels");
    free(json);
}
END_TEST

START_TEST(coco_ids_must_be_exact_integers) {
    coco_text_refused("{\"images\": [{\"id\": 9007199254740993, \"file_name\": \"a.jpg\", \"width\": 32, \"height\": 24}], "
                      CATS ", " ANNS "}",
                      "images[0].id: 9007199254740993 is not an integer id (a whole number of at most 2^53)");
    coco_text_refused("{" IMAGES ", \"categories\": [{\"id\": 1.5, \"name\": \"thing\"}], " ANNS "}",
                      "categories[0].id: 1.5 is not an integer id");
    coco_text_refused("{" IMAGES ", " CATS ", \"annotations\": [{\"id\": 1, \"image_id\": 1e300, \"category_id\": 1, "
                      "\"bbox\": [2, 2, 10, 10]}]}",
                      "annotations[0].image_id: 1e300 is not an integer id");
}
END_TEST

START_TEST(coco_repeated_keys_are_refused) {
    coco_text_refused("{" IMAGES ", " CATS ", " ANNS ", " IMAGES "}",
                      "images: repeated top-level key \"images\"; a COCO file has one at line 1");
    coco_text_refused("{\"images\": [{\"id\": 1, \"id\": 2, \"file_name\": \"a.jpg\", \"width\": 32, \"height\": 24}], "
                      CATS ", " ANNS "}",
                      "images[0].id: repeated key");
}
END_TEST

/* Valid JSON, refused by training as ambiguous: check flags it too. */
START_TEST(coco_duplicate_category_id_is_flagged_by_check_too) {
    const char *json = "{" IMAGES ", \"categories\": [{\"id\": 1, \"name\": \"a\"}, {\"id\": 1.0, \"name\": \"b\"}], "
                       ANNS "}";
    const char *path = write_file("dup_cat.json", json, strlen(json));
    char cfg[1024], msg[1024];
    snprintf(cfg, sizeof cfg, "ann_file = \"%s\"; img_dir = \"%s\";", path, TMP);
    train_verdict("coco", cfg, msg, sizeof msg);
    ck_assert_msg(strstr(msg, "coco: category id 1 appears twice"), "%s", msg);
    wb_check_report r;
    check_report(wb_scan_coco, cfg, &r);
    ck_assert(reported(&r, WB_DEFECT_DUPLICATE_ID, "category id 1 appears twice in `categories`"));
}
END_TEST

START_TEST(coco_fifo_and_directory_are_refused_not_waited_on) {
    const char *fifo = TMP "/instances.fifo";
    mkdir(TMP, 0755);
    unlink(fifo);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    coco_refused_everywhere(fifo, "instances.fifo: is a FIFO (named pipe)");
    coco_refused_everywhere(TMP, "test_datasets_hostile_tmp: is a directory");
    wb_coco_detection *dets;
    size_t n;
    char err[512];
    ck_assert_int_eq(wb_coco_results_load(fifo, &dets, &n, err, sizeof err), WB_ERR_IO);
    ck_assert_msg(strstr(err, "is a FIFO (named pipe)"), "%s", err);
    unlink(fifo);
}
END_TEST

/* Numbers the JSON grammar allows are read like cJSON and Python read them. */
START_TEST(coco_long_and_tiny_numbers_are_accepted_alike) {
    const char *json = "{" IMAGES ", " CATS ", \"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, "
                       "\"bbox\": [2.00000000000000000000000000000000000000000000000000000000000000000000001, 2, 10, "
                       "1000000000000000000000000000000000000000000000000000000000000000000000e-69], "
                       "\"area\": 1e-400}], \"info\": {\"x\": 1e400}}";
    const char *path = write_file("numbers.json", json, strlen(json));
    char cfg[1024], msg[1024], err[512];
    snprintf(cfg, sizeof cfg, "ann_file = \"%s\"; img_dir = \"%s\";", path, TMP);
    train_verdict("coco", cfg, msg, sizeof msg);
    ck_assert_msg(msg[0] == '\0', "training refused: %s", msg);
    wb_check_report r;
    check_report(wb_scan_coco, cfg, &r);
    ck_assert_int_eq(r.count[WB_DEFECT_BAD_ANNOTATION], 0);
    ck_assert_int_eq(r.boxes, 1);
    wb_coco_gt gt;
    ck_assert_msg(wb_coco_gt_load(path, &gt, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(gt.n_annotations, 1);
    ck_assert(gt.annotations[0].bbox[0] == 2.0 && gt.annotations[0].bbox[3] == 1.0);
    ck_assert(gt.annotations[0].area == 0.0);
    wb_coco_gt_free(&gt);
}
END_TEST

START_TEST(json_ids_are_decided_on_the_digits) {
    static const struct {
        const char *token;
        bool ok;
        int64_t value;
    } cases[] = {
        {"1", true, 1}, {"-0", true, 0}, {"1.0", true, 1}, {"1e3", true, 1000}, {"10e-1", true, 1},
        {"0.5e1", true, 5}, {"9007199254740992", true, 9007199254740992}, {"-9007199254740992", true, -9007199254740992},
        {"9007199254740993", false, 0}, {"9007199254740992.5", false, 0}, {"1.5", false, 0}, {"1e-1", false, 0},
        {"1e16", false, 0}, {"1.0000000000000000000001", false, 0}, {"1e999999999999999999", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -1;
        bool ok = json_token_id(cases[i].token, strlen(cases[i].token), &v);
        ck_assert_msg(ok == cases[i].ok, "%s: %d", cases[i].token, ok);
        if (ok) ck_assert_msg(v == cases[i].value, "%s read as %lld", cases[i].token, (long long)v);
    }
}
END_TEST

/* ---- VOC ----------------------------------------------------------------- */

static void voc_setup(const char *xml) {
    mkdir(TMP "/voc", 0755);
    mkdir(TMP "/voc/Annotations", 0755);
    mkdir(TMP "/voc/JPEGImages", 0755);
    write_file("voc/split.txt", "a\n", 2);
    unlink(TMP "/voc/Annotations/a.xml");
    if (xml) write_file("voc/Annotations/a.xml", xml, strlen(xml));
}

#define VOC_CFG "root = \"" TMP "/voc\"; split = \"split.txt\"; classes = [\"cat\"];"

/* The plugin skips an unreadable annotation file with a warning naming why, and
 * then has no image; the doctor reports the file. */
static void voc_refused(const char *expect) {
    char msg[1024];
    train_verdict("voc", VOC_CFG, msg, sizeof msg);
    ck_assert_msg(msg[0], "voc opened a dataset whose only annotation is hostile");
    wb_check_report r;
    check_report(wb_scan_voc, VOC_CFG, &r);
    printf("check: %s\n", r.example[WB_DEFECT_BAD_ANNOTATION][0]);
    ck_assert_msg(reported(&r, WB_DEFECT_BAD_ANNOTATION, expect), "check: '%s' lacks '%s'",
                  r.example[WB_DEFECT_BAD_ANNOTATION][0], expect);
}

START_TEST(voc_entity_bomb_is_refused) {
    char xml[4096] = "<?xml version=\"1.0\"?>\n<!DOCTYPE a [\n<!ENTITY l0 \"lollollollollollollollollollol\">\n";
    for (int i = 1; i < 10; i++) /* 10^9 expansions of l0 */
        snprintf(xml + strlen(xml), sizeof xml - strlen(xml),
                 "<!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;\">\n", i, i - 1, i - 1, i - 1, i - 1,
                 i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    strcat(xml, "]>\n<annotation><folder>&l9;</folder></annotation>\n");
    voc_setup(xml);
    voc_refused("limit on input amplification factor (from DTD and entities) breached");
}
END_TEST

START_TEST(voc_long_numbers_are_refused_not_truncated) {
    char xml[2048], digits[301];
    memset(digits, '9', 300);
    digits[300] = '\0';
    snprintf(xml, sizeof xml, "<annotation><size><width>32</width><height>24</height></size><object><name>cat</name>"
             "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>1%s</xmax><ymax>5</ymax></bndbox></object></annotation>", digits);
    voc_setup(xml);
    voc_refused("too long");
}
END_TEST

START_TEST(voc_fifo_annotation_is_refused) {
    voc_setup(NULL);
    ck_assert_int_eq(mkfifo(TMP "/voc/Annotations/a.xml", 0644), 0);
    voc_refused("is a FIFO (named pipe)");
    unlink(TMP "/voc/Annotations/a.xml");
}
END_TEST

/* A person layout: the <part>s' names and boxes are not the object's. */
START_TEST(voc_parts_do_not_replace_the_object) {
    voc_setup("<annotation><size><width>32</width><height>24</height></size><object><name>cat</name>"
              "<bndbox><xmin>2</xmin><ymin>3</ymin><xmax>20</xmax><ymax>21</ymax></bndbox>"
              "<part><name>hand</name><bndbox><xmin>4</xmin><ymin>5</ymin><xmax>6</xmax><ymax>7</ymax></bndbox></part>"
              "</object></annotation>");
    wbt_env env;
    wbt_env_init(&env, NULL, 1);
    config_t cfg;
    config_init(&cfg);
    ck_assert(config_read_string(&cfg, VOC_CFG) == CONFIG_TRUE);
    const wb_dataset_vtable *vt = wbt_dataset_plugin(WB_PLUGIN_BUILD_DIR, "voc");
    void *ds = NULL;
    ck_assert_msg(vt->open(env.ctx, wb_params_of(config_root_setting(&cfg)), &ds) == WB_OK, "%s", env.c.msg);
    wb_sample s;
    ck_assert_msg(vt->get(ds, env.ctx, 0, &s) == WB_OK, "%s", env.c.msg);
    ck_assert_int_eq(s.num_boxes, 1);
    ck_assert_int_eq(s.labels[0], 0);
    ck_assert(s.boxes[0] < 2.5f && s.boxes[2] > 19.5f); /* the object's box, not the hand's */
    vt->release_sample(ds, &s);
    vt->close(ds);
    config_destroy(&cfg);
    wbt_env_free(&env);
    wb_check_report r;
    check_report(wb_scan_voc, VOC_CFG, &r);
    ck_assert_msg(r.count[WB_DEFECT_BAD_LABEL] == 0, "check took the part's name: %s", r.example[WB_DEFECT_BAD_LABEL][0]);
    ck_assert_int_eq(r.boxes, 1);
}
END_TEST

/* ---- YOLO ---------------------------------------------------------------- */

#define YOLO_CFG(names) "images = \"" TMP "/yolo/images\"; names_file = \"" TMP "/yolo/" names "\";"

static void yolo_setup(const char *label) {
    mkdir(TMP "/yolo", 0755);
    mkdir(TMP "/yolo/images", 0755);
    mkdir(TMP "/yolo/labels", 0755);
    uint8_t rgb[32 * 24 * 3] = {0};
    char err[512];
    ck_assert_msg(wb_image_save_jpeg(TMP "/yolo/images/a.jpg", rgb, 32, 24, 90, err, sizeof err) == WB_OK, "%s", err);
    unlink(TMP "/yolo/labels/a.txt");
    if (label) write_file("yolo/labels/a.txt", label, strlen(label));
}

/* names file text: training and check refuse it with expect. */
static void yolo_names_refused(const char *yaml, const char *expect) {
    yolo_setup("0 0.5 0.5 0.1 0.1\n");
    write_file("yolo/data.yaml", yaml, strlen(yaml));
    char msg[1024];
    train_verdict("yolo", YOLO_CFG("data.yaml"), msg, sizeof msg);
    printf("training: %s\n", msg);
    ck_assert_msg(strstr(msg, expect), "training: '%s' lacks '%s'", msg, expect);
    wb_check_report r;
    check_report(wb_scan_yolo, YOLO_CFG("data.yaml"), &r);
    ck_assert_msg(reported(&r, WB_DEFECT_BAD_ANNOTATION, expect), "check: '%s' lacks '%s'",
                  r.example[WB_DEFECT_BAD_ANNOTATION][0], expect);
}

START_TEST(yolo_data_yaml_is_read_with_one_set_of_rules) {
    yolo_names_refused("names:\n  0: a\n  2: b\n", "`names` has no index 1 (indices run from 0 without gaps)");
    yolo_names_refused("nc: 3\nnames: [a, b]\n", "`nc` is 3 but `names` has 2 names");
    yolo_names_refused("names:\n  0: a\n  0: b\n", "a `names` index appears twice");
    yolo_names_refused("x: &a [1]\nnames: *a\n", "`names` must be a list of names or a mapping");
    yolo_names_refused("names: [a, b\n", "not valid YAML");
    char deep[512] = "x: ";
    memset(deep + 3, '[', 200);
    memset(deep + 203, ']', 200);
    strcpy(deep + 403, "\nnames: [a]\n");
    yolo_names_refused(deep, "nesting deeper than 64 levels");
}
END_TEST

START_TEST(yolo_hostile_labels) {
    yolo_setup(NULL);
    write_file("yolo/names.txt", "a\nb\n", 4);
    ck_assert_int_eq(mkfifo(TMP "/yolo/labels/a.txt", 0644), 0);
    char msg[1024];
    train_verdict("yolo", YOLO_CFG("names.txt"), msg, sizeof msg);
    ck_assert_msg(strstr(msg, "labels/a.txt: is a FIFO (named pipe)"), "%s", msg);
    wb_check_report r;
    check_report(wb_scan_yolo, YOLO_CFG("names.txt"), &r);
    ck_assert(reported(&r, WB_DEFECT_BAD_ANNOTATION, "is a FIFO (named pipe)"));
    /* A huge coordinate, a fractional class: lines refused, not boxes at infinity. */
    yolo_setup("0 1e300 0.5 0.1 0.1\n1.5 0.5 0.5 0.1 0.1\n");
    check_report(wb_scan_yolo, YOLO_CFG("names.txt"), &r);
    ck_assert(reported(&r, WB_DEFECT_BAD_LINE, "coordinate 1e+300 is beyond +-1e6"));
    ck_assert(reported(&r, WB_DEFECT_BAD_LABEL, "class 1.5 is not an integer in [0, 2)"));
}
END_TEST

static Suite *hostile_suite(void) {
    Suite *s = suite_create("datasets_hostile");
    TCase *tc = tcase_create("readers");
    tcase_add_test(tc, coco_deep_nesting_is_refused_not_a_stack_overflow);
    tcase_add_test(tc, coco_ids_must_be_exact_integers);
    tcase_add_test(tc, coco_repeated_keys_are_refused);
    tcase_add_test(tc, coco_duplicate_category_id_is_flagged_by_check_too);
    tcase_add_test(tc, coco_fifo_and_directory_are_refused_not_waited_on);
    tcase_add_test(tc, coco_long_and_tiny_numbers_are_accepted_alike);
    tcase_add_test(tc, json_ids_are_decided_on_the_digits);
    tcase_add_test(tc, voc_entity_bomb_is_refused);
    tcase_add_test(tc, voc_long_numbers_are_refused_not_truncated);
    tcase_add_test(tc, voc_fifo_annotation_is_refused);
    tcase_add_test(tc, voc_parts_do_not_replace_the_object);
    tcase_add_test(tc, yolo_data_yaml_is_read_with_one_set_of_rules);
    tcase_add_test(tc, yolo_hostile_labels);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    system("rm -rf '" TMP "'");
    return wbt_run_suite(hostile_suite());
}
