/* The one data.yaml reader (core/formats/yolo/yolo_names.c, libyaml) on the
 * shapes YOLOv5's data files come in: v5.0's flow list over several lines,
 * block lists, {index: name} mappings, nc agreeing, and the shared coco128. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formats/yolo/yolo_names.h"
#include "io/file_read.h"
#include "wbtest.h"

#define SHARED WB_SOURCE_DIR "/../shared/datasets"

static int parse(const char *yaml, char ***names) {
    char err[512];
    int n = yolo_names_parse(yaml, strlen(yaml), true, names, err, sizeof err);
    ck_assert_msg(n > 0, "refused: %s", err);
    return n;
}

/* YOLOv5 v5.0's coco128.yaml: a flow list broken over lines, quoted names. */
START_TEST(v5_multi_line_flow_list) {
    const char *yaml = "# COCO 2017 dataset http://cocodataset.org - first 128 training images\n"
                       "train: ../coco128/images/train2017/\n"
                       "val: ../coco128/images/train2017/\n\n"
                       "# number of classes\n"
                       "nc: 11\n\n"
                       "# class names\n"
                       "names: [ 'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck',\n"
                       "         'boat', 'traffic light',\n"
                       "         'fire hydrant' ]\n";
    char **names;
    int n = parse(yaml, &names);
    ck_assert_int_eq(n, 11);
    ck_assert_str_eq(names[0], "person");
    ck_assert_str_eq(names[8], "boat");
    ck_assert_str_eq(names[9], "traffic light");
    ck_assert_str_eq(names[10], "fire hydrant");
    yolo_names_free(names, n);
}
END_TEST

START_TEST(block_list_and_mapping) {
    char **names;
    int n = parse("path: ../datasets/x\nnames:\n  - person\n  - 'traffic light'\n  - \"猫\"\nnc: 3\n", &names);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(names[1], "traffic light");
    ck_assert_str_eq(names[2], "猫");
    yolo_names_free(names, n);
    n = parse("names:\n  1: bicycle\n  0: person\n", &names);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(names[0], "person");
    ck_assert_str_eq(names[1], "bicycle");
    yolo_names_free(names, n);
}
END_TEST

START_TEST(nc_must_agree) {
    char **names, err[512];
    const char *yaml = "nc: 80\nnames: [ 'person',\n  'bicycle' ]\n";
    ck_assert_int_eq(yolo_names_parse(yaml, strlen(yaml), true, &names, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "`nc` is 80 but `names` has 2 names"));
}
END_TEST

/* path / train / val: a relative path from the data.yaml's folder, absolute ones as they are. */
START_TEST(split_folders) {
    const char *yaml = "path: ../datasets/coco128\ntrain: images/train2017\nval: /data/val.txt\nnames: [a]\n";
    char err[512], *got = yolo_data_split_images(yaml, strlen(yaml), "cfg/data/coco128.yaml", "train", err, sizeof err);
    ck_assert_str_eq(got, "cfg/data/../datasets/coco128/images/train2017");
    free(got);
    got = yolo_data_split_images(yaml, strlen(yaml), "coco128.yaml", "val", err, sizeof err);
    ck_assert_str_eq(got, "/data/val.txt");
    free(got);
    const char *no_path = "train: imgs\npath: .\nnames: [a]\n";
    got = yolo_data_split_images(no_path, strlen(no_path), "/d/x.yaml", "train", err, sizeof err);
    ck_assert_str_eq(got, "/d/imgs");
    free(got);
    ck_assert_ptr_null(yolo_data_split_images(yaml, strlen(yaml), "d.yaml", "test", err, sizeof err));
    ck_assert_str_eq(err, "d.yaml has no `test` (the data.yaml names the splits it has)");
    const char *listed = "train: [a, b]\nnames: [a]\n";
    ck_assert_ptr_null(yolo_data_split_images(listed, strlen(listed), "d.yaml", "train", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "lists several folders; give one folder or image-list file (line 1)"));
    ck_assert_ptr_null(yolo_data_split_images(yaml, strlen(yaml), "d.yaml", "dev", err, sizeof err));
    ck_assert_str_eq(err, "split 'dev' is none of train, val, test");
}
END_TEST

/* The shared coco128 (YOLOv5 7.0's mapping form): 80 classes. */
START_TEST(shared_coco128_has_80_names) {
    char err[512];
    size_t size;
    char *text = wb_read_file(SHARED "/coco128/data.yaml", 1 << 20, "data.yaml", &size, err, sizeof err);
    if (!text) {
        printf("shared_coco128_has_80_names: skipped: %s\n", err);
        return;
    }
    char **names;
    int n = yolo_names_parse(text, size, true, &names, err, sizeof err);
    free(text);
    ck_assert_msg(n == 80, "%d names (%s)", n, err);
    ck_assert_str_eq(names[0], "person");
    ck_assert_str_eq(names[79], "toothbrush");
    yolo_names_free(names, n);
}
END_TEST

int main(void) {
    Suite *s = suite_create("yolo_names");
    TCase *tc = tcase_create("yolo_names");
    tcase_add_test(tc, v5_multi_line_flow_list);
    tcase_add_test(tc, block_list_and_mapping);
    tcase_add_test(tc, nc_must_agree);
    tcase_add_test(tc, split_folders);
    tcase_add_test(tc, shared_coco128_has_80_names);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
