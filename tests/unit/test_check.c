/* The dataset doctor (`workbench check`): every real defect of the shared
 * datasets, a corpus of generated broken inputs (each gives its documented
 * defect kind and message, none crashes), --fix-to output that scans clean,
 * and bad samples during `workbench run` (skip + bad_samples.txt, or fail). */
#define _GNU_SOURCE /* memmem */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/doctor.h"
#include "check/scan_common.h"
#include "data/image_write.h"
#include "wbtest.h"

#define SHARED WB_SOURCE_DIR "/../shared/datasets"
#define TMP WB_BINARY_DIR "/test_check_tmp"
#define WORKBENCH WB_BINARY_DIR "/bin/workbench"

static void require_shared(void) {
    struct stat sb;
    ck_assert_msg(stat(SHARED, &sb) == 0 && S_ISDIR(sb.st_mode),
                  "shared datasets not found at %s: these tests need ../shared beside the checkout", SHARED);
}

static void write_bytes(const char *path, const void *bytes, size_t n) {
    ck_assert_msg(wb_scan_make_parents(path), "cannot create the folders of %s", path);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

static void write_text(const char *path, const char *text) { write_bytes(path, text, strlen(text)); }

static uint8_t *gradient(int w, int h) {
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) rgb[i] = (uint8_t)(i * 7);
    return rgb;
}

static void make_jpeg(const char *path, int w, int h) {
    uint8_t *rgb = gradient(w, h);
    char err[256];
    ck_assert_msg(wb_scan_make_parents(path), "cannot create the folders of %s", path);
    ck_assert_msg(wb_image_save_jpeg(path, rgb, w, h, 90, err, sizeof err) == WB_OK, "%s", err);
    free(rgb);
}

/* A JPEG cut to half its bytes: the decoder must report it, not return a half-grey image. */
static void make_truncated_jpeg(const char *path, int w, int h) {
    make_jpeg(path, w, h);
    size_t n = 0;
    char *bytes = wb_scan_read_text(path, &n);
    write_bytes(path, bytes, n / 2);
    free(bytes);
}

/* A PNG whose IDAT chunk CRC is wrong. */
static void make_png_bad_crc(const char *path, int w, int h) {
    png_image img = {.version = PNG_IMAGE_VERSION, .width = (png_uint_32)w, .height = (png_uint_32)h,
                     .format = PNG_FORMAT_RGB};
    uint8_t *rgb = gradient(w, h);
    png_alloc_size_t n = 0;
    ck_assert(png_image_write_to_memory(&img, NULL, &n, 0, rgb, 0, NULL));
    uint8_t *png = malloc(n);
    ck_assert(png_image_write_to_memory(&img, png, &n, 0, rgb, 0, NULL));
    uint8_t *idat = memmem(png, n, "IDAT", 4);
    ck_assert(idat != NULL);
    uint32_t len = (uint32_t)idat[-4] << 24 | (uint32_t)idat[-3] << 16 | (uint32_t)idat[-2] << 8 | idat[-1];
    idat[4 + len] ^= 0xFF; /* first byte of the CRC after the chunk data */
    write_bytes(path, png, n);
    free(png);
    free(rgb);
}

/* Writes one fixture file: text, or an image for the contents @jpeg (32x24), @jpeg_trunc, @png_badcrc, @empty. */
static void make_file(const char *path, const char *contents) {
    if (strcmp(contents, "@jpeg") == 0) make_jpeg(path, 32, 24);
    else if (strcmp(contents, "@jpeg_trunc") == 0) make_truncated_jpeg(path, 32, 24);
    else if (strcmp(contents, "@png_badcrc") == 0) make_png_bad_crc(path, 32, 24);
    else if (strcmp(contents, "@empty") == 0) write_bytes(path, "", 0);
    else write_text(path, contents);
}

/* Loads an experiment text (only its data section matters) and runs the doctor on its splits. */
static int doctor(const char *dir, const char *conf_text, const char *fix_dir, wb_check_report *reports) {
    char path[1024], err[1024];
    snprintf(path, sizeof path, "%s/doctor.conf", dir);
    write_text(path, conf_text);
    wb_config *cfg = wb_config_new();
    ck_assert_msg(wb_config_load(cfg, path) == 0, "cannot load %s", path);
    FILE *sink = fopen("/dev/null", "w");
    wb_doctor_opts o = {.split = "all", .fix_dir = fix_dir};
    int n = wb_doctor_run(cfg, &o, reports, sink, err, sizeof err);
    fclose(sink);
    wb_config_free(cfg);
    ck_assert_msg(n >= 0, "doctor failed: %s", err);
    return n;
}

static bool has_example(const wb_check_report *r, wb_defect kind, const char *fragment) {
    for (int i = 0; i < WB_CHECK_EXAMPLES && i < r->count[kind]; i++)
        if (strstr(r->example[kind][i], fragment)) return true;
    return false;
}

/* Every defect kind other than `except` (and the notes) is absent. */
static void assert_only(const wb_check_report *r, wb_defect except) {
    for (int k = 0; k < WB_DEFECT_COUNT; k++)
        if (k != (int)except && !wb_defect_is_note((wb_defect)k))
            ck_assert_msg(r->count[k] == 0, "data.%s: unexpected %lld x '%s', first: %s", r->split,
                          (long long)r->count[k], wb_defect_name((wb_defect)k), r->example[k][0]);
}

static wb_check_report reports[WB_CHECK_MAX_SPLITS];

START_TEST(bccd_defects) {
    require_shared();
    ck_assert_int_eq(chdir(WB_SOURCE_DIR), 0); /* the bases' paths are relative to the checkout */
    int n = doctor(TMP, "@include \"" WB_SOURCE_DIR "/configs/_base_/datasets/bccd.conf\"\n", NULL, reports);
    ck_assert_int_eq(n, 3); /* train, val and test, which reads val.txt (the shared copy holds test back) */
    ck_assert_int_eq(reports[2].images, reports[1].images);
    /* Counts of the issue: trainval 292 images, 3943 boxes. */
    ck_assert_int_eq(reports[0].images + reports[1].images, 292);
    ck_assert_int_eq(reports[0].boxes + reports[1].boxes, 3943);
    /* The real defects: two boxes of zero width and height, one per split. */
    ck_assert_int_eq(reports[0].count[WB_DEFECT_BOX_EMPTY], 1);
    ck_assert(has_example(&reports[0], WB_DEFECT_BOX_EMPTY, "BloodImage_00343.xml:50: box [181 329 181 329]"));
    ck_assert_int_eq(reports[1].count[WB_DEFECT_BOX_EMPTY], 1);
    ck_assert(has_example(&reports[1], WB_DEFECT_BOX_EMPTY, "BloodImage_00338.xml:158: box [504 337 504 337]"));
    assert_only(&reports[0], WB_DEFECT_BOX_EMPTY);
    assert_only(&reports[1], WB_DEFECT_BOX_EMPTY);
}
END_TEST

START_TEST(coco128_clean_with_two_background_images) {
    require_shared();
    ck_assert_int_eq(chdir(WB_SOURCE_DIR), 0);
    int n = doctor(TMP, "@include \"" WB_SOURCE_DIR "/configs/_base_/datasets/coco128.conf\"\n", NULL, reports);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(reports[0].images, 128);
    ck_assert_int_eq(reports[0].boxes, 939);
    ck_assert_int_eq(wb_check_errors(&reports[0]), 0);
    ck_assert_int_eq(reports[0].count[WB_DEFECT_NO_OBJECTS], 2);
    ck_assert(has_example(&reports[0], WB_DEFECT_NO_OBJECTS, "(id 250)"));
    ck_assert(has_example(&reports[0], WB_DEFECT_NO_OBJECTS, "(id 508)"));
}
END_TEST

START_TEST(coco128_yolo_orphans_and_missing_labels) {
    require_shared();
    ck_assert_int_eq(chdir(WB_SOURCE_DIR), 0);
    doctor(TMP, "@include \"" WB_SOURCE_DIR "/configs/_base_/datasets/coco128_yolo.conf\"\n", NULL, reports);
    const wb_check_report *r = &reports[0];
    ck_assert_int_eq(r->images, 128);
    ck_assert_int_eq(r->count[WB_DEFECT_ORPHAN_LABEL], 2);
    ck_assert(has_example(r, WB_DEFECT_ORPHAN_LABEL, "labels/train2017/000000000656.txt"));
    ck_assert(has_example(r, WB_DEFECT_ORPHAN_LABEL, "labels/train2017/000000000659.txt"));
    ck_assert_int_eq(r->count[WB_DEFECT_NO_LABEL_FILE], 2);
    ck_assert(has_example(r, WB_DEFECT_NO_LABEL_FILE, "images/train2017/000000000250.jpg"));
    ck_assert(has_example(r, WB_DEFECT_NO_LABEL_FILE, "images/train2017/000000000508.jpg"));
    assert_only(r, WB_DEFECT_ORPHAN_LABEL);
}
END_TEST

/* ---- corpus of broken inputs ------------------------------------------- */

#define CLEAN WB_DEFECT_COUNT
#define IMG "{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 32, \"height\": 24}"
#define CAT "\"categories\": [{\"id\": 1, \"name\": \"thing\"}]"
#define COCO_WITH(images, anns) "{\"images\": [" images "], \"annotations\": [" anns "], " CAT "}"
#define ANN(bbox) "{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": " bbox "}"
#define COCO_DS "type = \"coco\"; ann_file = \"ann.json\"; img_dir = \"img\";"
#define VOC_DS "type = \"voc\"; root = \"voc\"; split = \"split.txt\"; classes = [\"cat\"];"
#define YOLO_DS "type = \"yolo\"; images = \"d/images/train\"; names = [\"a\", \"b\"];"
#define VOC_XML(size, objects) "<annotation><filename>a.jpg</filename>" size objects "</annotation>\n"
#define VOC_SIZE "<size><width>32</width><height>24</height><depth>3</depth></size>"
#define VOC_OBJ(name, x1, y1, x2, y2)                                                                          \
    "<object><name>" name "</name><difficult>0</difficult><bndbox><xmin>" x1 "</xmin><ymin>" y1 "</ymin><xmax>" x2 \
    "</xmax><ymax>" y2 "</ymax></bndbox></object>"

typedef struct corpus_case {
    const char *name;
    const char *dataset;
    const char *files[4][2]; /* relative path, contents */
    wb_defect expect;        /* CLEAN: no defect at all */
    const char *fragment;    /* in one of the examples of `expect` */
} corpus_case;

static const corpus_case corpus[] = {
    {"coco: good", COCO_DS, {{"ann.json", COCO_WITH(IMG, ANN("[2, 2, 10, 10]"))}, {"img/a.jpg", "@jpeg"}}, CLEAN, NULL},
    {"coco: missing image", COCO_DS, {{"ann.json", COCO_WITH(IMG, ANN("[2, 2, 10, 10]"))}}, WB_DEFECT_MISSING_IMAGE,
     "no file img/a.jpg"},
    {"coco: zero-byte image", COCO_DS, {{"ann.json", COCO_WITH(IMG, ANN("[2, 2, 10, 10]"))}, {"img/a.jpg", "@empty"}},
     WB_DEFECT_BAD_IMAGE, "images[0] (id 1, a.jpg)"},
    {"coco: truncated JPEG", COCO_DS,
     {{"ann.json", COCO_WITH(IMG, ANN("[2, 2, 10, 10]"))}, {"img/a.jpg", "@jpeg_trunc"}}, WB_DEFECT_BAD_IMAGE, "a.jpg"},
    {"coco: PNG with a bad CRC", COCO_DS,
     {{"ann.json", COCO_WITH("{\"id\": 1, \"file_name\": \"a.png\", \"width\": 32, \"height\": 24}",
                             ANN("[2, 2, 10, 10]"))},
      {"img/a.png", "@png_badcrc"}},
     WB_DEFECT_BAD_IMAGE, "a.png"},
    {"coco: wrong width", COCO_DS,
     {{"ann.json", COCO_WITH("{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 64, \"height\": 24}",
                             ANN("[2, 2, 10, 10]"))},
      {"img/a.jpg", "@jpeg"}},
     WB_DEFECT_SIZE_MISMATCH, "annotated 64x24, the image is 32x24"},
    {"coco: box past the border", COCO_DS, {{"ann.json", COCO_WITH(IMG, ANN("[20, 2, 20, 10]"))}, {"img/a.jpg", "@jpeg"}},
     WB_DEFECT_BOX_OUTSIDE, "box [20 2 40 12] runs past the 32x24 image"},
    {"coco: negative width", COCO_DS, {{"ann.json", COCO_WITH(IMG, ANN("[10, 2, -5, 10]"))}, {"img/a.jpg", "@jpeg"}},
     WB_DEFECT_BOX_EMPTY, "width -5"},
    {"coco: zero area", COCO_DS, {{"ann.json", COCO_WITH(IMG, ANN("[10, 2, 0, 0]"))}, {"img/a.jpg", "@jpeg"}},
     WB_DEFECT_BOX_EMPTY, "width 0 and height 0"},
    {"coco: unknown category", COCO_DS,
     {{"ann.json", COCO_WITH(IMG, "{\"id\": 1, \"image_id\": 1, \"category_id\": 7, \"bbox\": [2, 2, 10, 10]}")},
      {"img/a.jpg", "@jpeg"}},
     WB_DEFECT_BAD_LABEL, "category_id 7 is not in `categories`"},
    {"coco: duplicate image id", COCO_DS,
     {{"ann.json", COCO_WITH(IMG ", " IMG, ANN("[2, 2, 10, 10]"))}, {"img/a.jpg", "@jpeg"}}, WB_DEFECT_DUPLICATE_ID,
     "images[0] and images[1] both have id 1"},
    {"coco: width of the wrong type", COCO_DS,
     {{"ann.json", COCO_WITH("{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": \"32\", \"height\": 24}", "")},
      {"img/a.jpg", "@jpeg"}},
     WB_DEFECT_BAD_ANNOTATION, "images[0]: needs a number `id`"},
    {"coco: no annotations key", COCO_DS, {{"ann.json", "{\"images\": [" IMG "], " CAT "}"}, {"img/a.jpg", "@jpeg"}},
     WB_DEFECT_BAD_ANNOTATION, "`annotations` is missing"},
    {"coco: bbox of 3 numbers", COCO_DS, {{"ann.json", COCO_WITH(IMG, ANN("[2, 2, 10]"))}, {"img/a.jpg", "@jpeg"}},
     WB_DEFECT_BAD_ANNOTATION, "`bbox` = [x, y, w, h]"},
    {"coco: bbox with a string", COCO_DS, {{"ann.json", COCO_WITH(IMG, ANN("[2, 2, \"10\", 10]"))}, {"img/a.jpg", "@jpeg"}},
     WB_DEFECT_BAD_ANNOTATION, "bbox[2] is not a number"},
    {"coco: invalid JSON", COCO_DS, {{"ann.json", "{\"images\": [\n" IMG ",\n]}"}, {"img/a.jpg", "@jpeg"}},
     WB_DEFECT_BAD_ANNOTATION, "not valid JSON at line"},
    {"coco: annotation of an unknown image", COCO_DS,
     {{"ann.json", COCO_WITH(IMG, "{\"id\": 1, \"image_id\": 99, \"category_id\": 1, \"bbox\": [2, 2, 10, 10]}")},
      {"img/a.jpg", "@jpeg"}},
     WB_DEFECT_BAD_ANNOTATION, "image_id 99 is not in `images`"},
    {"coco: UTF-8 BOM is accepted", COCO_DS,
     {{"ann.json", "\xEF\xBB\xBF" COCO_WITH(IMG, ANN("[2, 2, 10, 10]"))}, {"img/a.jpg", "@jpeg"}}, CLEAN, NULL},
    {"coco: paths with spaces", "type = \"coco\"; ann_file = \"my anns/ann.json\"; img_dir = \"my images\";",
     {{"my anns/ann.json", COCO_WITH(IMG, ANN("[2, 2, 10, 10]"))}, {"my images/a.jpg", "@jpeg"}}, CLEAN, NULL},
    {"coco: empty annotation file", COCO_DS, {{"ann.json", "@empty"}}, WB_DEFECT_BAD_ANNOTATION, "not valid JSON"},
    {"coco: no annotation file", COCO_DS, {{"img/a.jpg", "@jpeg"}}, WB_DEFECT_BAD_ANNOTATION, "cannot read the file"},
    {"voc: good", VOC_DS,
     {{"voc/split.txt", "a\n"}, {"voc/Annotations/a.xml", VOC_XML(VOC_SIZE, VOC_OBJ("cat", "2", "2", "12", "12"))},
      {"voc/JPEGImages/a.jpg", "@jpeg"}},
     CLEAN, NULL},
    {"voc: XML without size", VOC_DS,
     {{"voc/split.txt", "a\n"}, {"voc/Annotations/a.xml", VOC_XML("", VOC_OBJ("cat", "2", "2", "12", "12"))},
      {"voc/JPEGImages/a.jpg", "@jpeg"}},
     WB_DEFECT_SIZE_MISMATCH, "no <size> with numeric width and height; the image is 32x24"},
    {"voc: XML that does not parse", VOC_DS,
     {{"voc/split.txt", "a\n"}, {"voc/Annotations/a.xml", "<annotation>\n<size><width>32</width>\n</annotation>\n"},
      {"voc/JPEGImages/a.jpg", "@jpeg"}},
     WB_DEFECT_BAD_ANNOTATION, "a.xml: line 3: mismatched tag"},
    {"voc: split names a missing annotation", VOC_DS, {{"voc/split.txt", "a\n"}, {"voc/JPEGImages/a.jpg", "@jpeg"}},
     WB_DEFECT_MISSING_ANNOTATION, "split.txt:1: id 'a' has no annotation"},
    {"voc: class not in the list", VOC_DS,
     {{"voc/split.txt", "a\n"}, {"voc/Annotations/a.xml", VOC_XML(VOC_SIZE, VOC_OBJ("dog", "2", "2", "12", "12"))},
      {"voc/JPEGImages/a.jpg", "@jpeg"}},
     WB_DEFECT_BAD_LABEL, "class 'dog' is not in `classes`"},
    {"voc: coordinate not a number", VOC_DS,
     {{"voc/split.txt", "a\n"}, {"voc/Annotations/a.xml", VOC_XML(VOC_SIZE, VOC_OBJ("cat", "2", "two", "12", "12"))},
      {"voc/JPEGImages/a.jpg", "@jpeg"}},
     WB_DEFECT_BAD_ANNOTATION, "('two' is not)"},
    {"voc: NaN coordinate", VOC_DS,
     {{"voc/split.txt", "a\n"}, {"voc/Annotations/a.xml", VOC_XML(VOC_SIZE, VOC_OBJ("cat", "2", "nan", "12", "12"))},
      {"voc/JPEGImages/a.jpg", "@jpeg"}},
     WB_DEFECT_BOX_NAN, "non-finite coordinate"},
    {"voc: box past the border", VOC_DS,
     {{"voc/split.txt", "a\n"}, {"voc/Annotations/a.xml", VOC_XML(VOC_SIZE, VOC_OBJ("cat", "2", "2", "40", "12"))},
      {"voc/JPEGImages/a.jpg", "@jpeg"}},
     WB_DEFECT_BOX_OUTSIDE, "box [2 2 40 12] runs past the 32x24 image"},
    {"voc: id listed twice", VOC_DS,
     {{"voc/split.txt", "a\na\n"}, {"voc/Annotations/a.xml", VOC_XML(VOC_SIZE, VOC_OBJ("cat", "2", "2", "12", "12"))},
      {"voc/JPEGImages/a.jpg", "@jpeg"}},
     WB_DEFECT_DUPLICATE_ID, "id 'a' is listed more than once"},
    {"voc: CRLF and BOM accepted", VOC_DS,
     {{"voc/split.txt", "\xEF\xBB\xBF" "a\r\n"},
      {"voc/Annotations/a.xml", VOC_XML(VOC_SIZE, VOC_OBJ("cat", "2", "2", "12", "12"))},
      {"voc/JPEGImages/a.jpg", "@jpeg"}},
     CLEAN, NULL},
    {"voc: missing image", VOC_DS,
     {{"voc/split.txt", "a\n"}, {"voc/Annotations/a.xml", VOC_XML(VOC_SIZE, VOC_OBJ("cat", "2", "2", "12", "12"))}},
     WB_DEFECT_MISSING_IMAGE, "no file voc/JPEGImages/a.jpg"},
    {"yolo: good", YOLO_DS, {{"d/images/train/a.jpg", "@jpeg"}, {"d/labels/train/a.txt", "1 0.5 0.5 0.25 0.25\n"}}, CLEAN,
     NULL},
    {"yolo: line with 4 numbers", YOLO_DS, {{"d/images/train/a.jpg", "@jpeg"}, {"d/labels/train/a.txt", "1 0.5 0.5 0.25\n"}},
     WB_DEFECT_BAD_LINE, "a.txt:1: 4 values; expected 5"},
    {"yolo: empty line", YOLO_DS,
     {{"d/images/train/a.jpg", "@jpeg"}, {"d/labels/train/a.txt", "1 0.5 0.5 0.25 0.25\n\n0 0.5 0.5 0.2 0.2\n"}},
     WB_DEFECT_BAD_LINE, "a.txt:2: empty line"},
    {"yolo: label out of range", YOLO_DS,
     {{"d/images/train/a.jpg", "@jpeg"}, {"d/labels/train/a.txt", "2 0.5 0.5 0.25 0.25\n"}}, WB_DEFECT_BAD_LABEL,
     "class 2 is not an integer in [0, 2)"},
    {"yolo: negative width", YOLO_DS,
     {{"d/images/train/a.jpg", "@jpeg"}, {"d/labels/train/a.txt", "0 0.5 0.5 -0.25 0.25\n"}}, WB_DEFECT_BOX_EMPTY,
     "a.txt:1: box"},
    {"yolo: NaN", YOLO_DS, {{"d/images/train/a.jpg", "@jpeg"}, {"d/labels/train/a.txt", "0 nan 0.5 0.25 0.25\n"}},
     WB_DEFECT_BOX_NAN, "non-finite"},
    {"yolo: box past the border", YOLO_DS,
     {{"d/images/train/a.jpg", "@jpeg"}, {"d/labels/train/a.txt", "0 0.95 0.5 0.25 0.25\n"}}, WB_DEFECT_BOX_OUTSIDE,
     "runs past the 32x24 image"},
    {"yolo: CRLF and BOM accepted", YOLO_DS,
     {{"d/images/train/a.jpg", "@jpeg"}, {"d/labels/train/a.txt", "\xEF\xBB\xBF" "1 0.5 0.5 0.25 0.25\r\n"}}, CLEAN, NULL},
    {"yolo: value not a number", YOLO_DS,
     {{"d/images/train/a.jpg", "@jpeg"}, {"d/labels/train/a.txt", "0 0.5 half 0.25 0.25\n"}}, WB_DEFECT_BAD_LINE,
     "'half 0.25 0.25' is not a number"},
    {"yolo: label file without an image", YOLO_DS,
     {{"d/images/train/a.jpg", "@jpeg"}, {"d/labels/train/a.txt", "0 0.5 0.5 0.2 0.2\n"},
      {"d/labels/train/ghost.txt", "0 0.5 0.5 0.2 0.2\n"}},
     WB_DEFECT_ORPHAN_LABEL, "ghost.txt: no listed image"},
    {"yolo: image list naming a missing image", "type = \"yolo\"; images = \"d/list.txt\"; names = [\"a\"];",
     {{"d/list.txt", "./images/train/a.jpg\nimages/train/gone.jpg\n"}, {"d/images/train/a.jpg", "@jpeg"},
      {"d/labels/train/a.txt", "0 0.5 0.5 0.2 0.2\n"}},
     WB_DEFECT_MISSING_IMAGE, "no file d/images/train/gone.jpg"},
    {"yolo: truncated JPEG", YOLO_DS,
     {{"d/images/train/a.jpg", "@jpeg_trunc"}, {"d/labels/train/a.txt", "0 0.5 0.5 0.2 0.2\n"}}, WB_DEFECT_BAD_IMAGE,
     "a.jpg"},
};
#define N_CORPUS (int)(sizeof corpus / sizeof corpus[0])

/* Builds case i in its own folder (the doctor resolves relative paths from the working directory). */
static void build_case(int i, char *dir, size_t n) {
    snprintf(dir, n, TMP "/corpus/%02d", i);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(chdir(dir), 0);
    for (int f = 0; f < 4 && corpus[i].files[f][0]; f++) make_file(corpus[i].files[f][0], corpus[i].files[f][1]);
}

START_TEST(corpus_case_gives_its_message) {
    const corpus_case *c = &corpus[_i];
    char dir[512], conf[2048];
    build_case(_i, dir, sizeof dir);
    snprintf(conf, sizeof conf, "data = { train = { dataset = { %s }; }; };\n", c->dataset);
    ck_assert_int_eq(doctor(".", conf, NULL, reports), 1);
    const wb_check_report *r = &reports[0];
    if (c->expect == CLEAN) {
        ck_assert_msg(wb_check_errors(r) == 0, "%s: expected clean", c->name);
        return;
    }
    ck_assert_msg(r->count[c->expect] >= 1, "%s: no '%s' reported", c->name, wb_defect_name(c->expect));
    ck_assert_msg(has_example(r, c->expect, c->fragment), "%s: '%s' not in the first example: %s", c->name,
                  c->fragment, r->example[c->expect][0]);
}
END_TEST

/* --fix-to on a dataset of every format with a mix of defects: the cleaned copy scans clean, the originals are
 * untouched. */
START_TEST(fix_to_writes_a_clean_copy) {
    char dir[512] = TMP "/fix";
    ck_assert_int_eq(system("rm -rf '" TMP "/fix' && mkdir -p '" TMP "/fix'"), 0);
    ck_assert_int_eq(chdir(dir), 0);
    const char *ann = COCO_WITH(IMG ", {\"id\": 2, \"file_name\": \"gone.jpg\", \"width\": 32, \"height\": 24}",
                                ANN("[20, 2, 20, 10]") ", " ANN("[2, 2, 0, 5]") ", "
                                "{\"id\": 3, \"image_id\": 2, \"category_id\": 1, \"bbox\": [1, 1, 5, 5]}");
    make_file("ann.json", ann);
    make_file("img/a.jpg", "@jpeg");
    make_file("voc/split.txt", "a\nb\n");
    make_file("voc/Annotations/a.xml", VOC_XML(VOC_SIZE, VOC_OBJ("cat", "2", "2", "40", "12") VOC_OBJ("dog", "1", "1", "5", "5")));
    make_file("voc/JPEGImages/a.jpg", "@jpeg");
    make_file("d/images/train/a.jpg", "@jpeg");
    make_file("d/labels/train/a.txt", "0 0.95 0.5 0.25 0.25\n0 0.5 0.5 0.25\n\n5 0.5 0.5 0.1 0.1\n1 0.5 0.5 0.1 0.1\n");
    const char *conf = "data = { train = { dataset = { " COCO_DS " }; }; val = { dataset = { " VOC_DS " }; };"
                       " test = { dataset = { " YOLO_DS " }; }; };\n";
    ck_assert_int_eq(doctor(".", conf, "cleaned", reports), 3);
    for (int s = 0; s < 3; s++) ck_assert_msg(wb_check_errors(&reports[s]) > 0, "split %d should have defects", s);
    size_t n = 0;
    char *original = wb_scan_read_text("ann.json", &n);
    ck_assert_str_eq(original, ann);
    free(original);
    /* The cleaned tree, scanned with the same images. */
    const char *fixed = "data = { train = { dataset = { type = \"coco\"; ann_file = \"cleaned/train/ann.json\"; "
                        "img_dir = \"img\"; }; }; val = { dataset = { type = \"voc\"; root = \"voc\"; "
                        "split = \"../cleaned/val/split.txt\"; ann_dir = \"../cleaned/val/Annotations\"; "
                        "classes = [\"cat\"]; }; }; };\n";
    ck_assert_int_eq(doctor(".", fixed, NULL, reports), 2);
    assert_only(&reports[0], WB_DEFECT_COUNT);
    assert_only(&reports[1], WB_DEFECT_COUNT);
    ck_assert_int_eq(reports[0].images, 1);  /* gone.jpg dropped */
    ck_assert_int_eq(reports[0].boxes, 1);   /* the clipped box kept, the empty one and gone.jpg's dropped */
    ck_assert_int_eq(reports[1].images, 1);  /* b has no annotation: not in the cleaned split */
    ck_assert_int_eq(reports[1].boxes, 1);   /* the clipped cat kept, the dog dropped */
    char *labels = wb_scan_read_text("cleaned/test/a.txt", NULL);
    ck_assert_ptr_nonnull(labels);
    /* 0.95 +- 0.125 clipped to [0.825, 1] -> cx 0.9125, w 0.175; the three bad lines gone. */
    ck_assert_str_eq(labels, "0 0.912500 0.500000 0.175000 0.250000\n1 0.500000 0.500000 0.100000 0.100000\n");
    free(labels);
}
END_TEST

/* ---- a dataset type without a format scanner: through its plugin ---------- */

/* The fixture plugin `image_list` (tests/fixtures/list_dataset.c) stands for a
 * third party's format: the doctor reads its samples through the plugin. */
START_TEST(plugin_dataset_is_checked_through_its_plugin) {
    const char *dir = TMP "/plugin";
    ck_assert_int_eq(system("rm -rf '" TMP "/plugin' && mkdir -p '" TMP "/plugin'"), 0);
    ck_assert_int_eq(chdir(dir), 0);
    make_jpeg("img/good.jpg", 64, 48);
    make_truncated_jpeg("img/trunc.jpg", 64, 48);
    make_file("list.txt", "img/good.jpg 4 4 30 30 0 20 20 10 40 1\n"
                          "img/missing.jpg 1 1 5 5 0\n"
                          "img/trunc.jpg 1 1 5 5 0\n"
                          "img/good.jpg 50 10 90 40 7 nan 1 2 3 0\n"
                          "img/good.jpg\n");
    make_file("exp.conf", "model = { backbone = { type = \"tiny_cnn\"; widths = [8, 16, 32]; };\n"
                          "          head = { type = \"center_head\"; num_classes = 2; feat_channels = 16; }; };\n"
                          "data = { train = { dataset = { type = \"image_list\"; list = \"list.txt\";"
                          " num_classes = 2; }; }; };\n");
    int rc = system("'" WORKBENCH "' --plugin-dir '" WB_FIXTURE_DIR "/datasets' check exp.conf > check.log 2>&1");
    char *log = wb_scan_read_text("check.log", NULL);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "check should exit 1:\n%s", log);
    const char *expected[] = {
        "image_list (through its plugin: 5 samples)",
        "5 images, 6 boxes declared",
        "sample 1 (img/missing.jpg): no file img/missing.jpg",
        "sample 2 (img/trunc.jpg): img/trunc.jpg: corrupt or truncated JPEG data",
        "sample 3 (img/good.jpg): box [50 10 90 40] runs past the 64x48 image",
        "sample 0 (img/good.jpg): box [20 20 10 40] has width -10 and height 20",
        "sample 3 (img/good.jpg): box [nan 1 2 3] has a non-finite coordinate",
        "sample 3 (img/good.jpg): label 7 of box 0 is outside 0..1",
        "sample 4 (img/good.jpg): no objects",
        "6 defect(s) found",
    };
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        ck_assert_msg(strstr(log, expected[i]), "the report lacks '%s':\n%s", expected[i], log);
    free(log);
}
END_TEST

/* ---- bad samples during training --------------------------------------- */

static int run_workbench(const char *dir, const char *extra, const char *log) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --plugin-dir '%s' --threads 1 run exp.conf --work-dir work %s > %s 2>&1",
             dir, WORKBENCH, WB_PLUGIN_BUILD_DIR, extra, log);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

START_TEST(run_skips_or_fails_on_a_corrupt_image) {
    const char *dir = TMP "/run";
    ck_assert_int_eq(system("rm -rf '" TMP "/run' && mkdir -p '" TMP "/run'"), 0);
    ck_assert_int_eq(chdir(dir), 0);
    char split[256] = "", path[256];
    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof path, "voc/JPEGImages/im%d.jpg", i);
        make_jpeg(path, 64, 64);
        snprintf(path, sizeof path, "voc/Annotations/im%d.xml", i);
        make_file(path, "<annotation><size><width>64</width><height>64</height></size>"
                        "<object><name>cat</name><bndbox><xmin>8</xmin><ymin>8</ymin><xmax>40</xmax><ymax>40</ymax>"
                        "</bndbox></object></annotation>");
        snprintf(split + strlen(split), sizeof split - strlen(split), "im%d\n", i);
    }
    make_truncated_jpeg("voc/JPEGImages/im3.jpg", 64, 64);
    make_file("voc/split.txt", split);
    make_file("exp.conf",
              "@include \"" WB_SOURCE_DIR "/configs/_base_/default_runtime.conf\"\n"
              "model = { backbone = { type = \"tiny_cnn\"; widths = [8, 16, 32]; };\n"
              "          head = { type = \"center_head\"; num_classes = 1; feat_channels = 16; }; };\n"
              "schedule = { by_epoch = false; max_iters = 2; warmup = \"none\"; };\n"
              "checkpoint = { interval = 0; };\n"
              "data = { batch_size = 4; workers = 1; train = { dataset = { " VOC_DS " };\n"
              "  pipeline = ( { type = \"normalize\"; mean = [127.5, 127.5, 127.5]; std = [64.0, 64.0, 64.0]; } ); }; };\n");
    /* The doctor sees the same defect first. */
    doctor(dir, "data = { train = { dataset = { " VOC_DS " }; }; };\n", NULL, reports);
    ck_assert_int_eq(reports[0].count[WB_DEFECT_BAD_IMAGE], 1);
    ck_assert_int_eq(chdir(dir), 0);
    /* Default: skipped with a warning and listed in bad_samples.txt. */
    ck_assert_int_eq(run_workbench(dir, "", "skip.log"), 0);
    char *bad = wb_scan_read_text("work/bad_samples.txt", NULL);
    ck_assert_msg(bad && strstr(bad, "im3.jpg"), "bad_samples.txt should list im3.jpg: %s", bad ? bad : "(none)");
    char *skip_log = wb_scan_read_text("skip.log", NULL);
    ck_assert_msg(strstr(skip_log, "bad samples were skipped"), "no warning in the log:\n%s", skip_log);
    /* on_bad_sample = "fail": stops with the same message. */
    ck_assert_int_ne(run_workbench(dir, "--set 'data.on_bad_sample=\"fail\"'", "fail.log"), 0);
    char *fail_log = wb_scan_read_text("fail.log", NULL);
    char *message = strchr(bad, '\t') + 1; /* "index\tmessage" */
    message[strcspn(message, "\n")] = '\0';
    ck_assert_msg(strstr(fail_log, message), "the failing run should say '%s':\n%s", message, fail_log);
    free(bad);
    free(skip_log);
    free(fail_log);
}
END_TEST

/* A dataset without one usable image stops before training with a clear message. */
START_TEST(run_stops_on_a_dataset_without_images) {
    const char *dir = TMP "/run_empty";
    ck_assert_int_eq(system("rm -rf '" TMP "/run_empty' && mkdir -p '" TMP "/run_empty'"), 0);
    ck_assert_int_eq(chdir(dir), 0);
    make_file("voc/split.txt", "a\n");
    make_file("exp.conf",
              "@include \"" WB_SOURCE_DIR "/configs/_base_/default_runtime.conf\"\n"
              "model = { backbone = { type = \"tiny_cnn\"; widths = [8, 16, 32]; };\n"
              "          head = { type = \"center_head\"; num_classes = 1; feat_channels = 16; }; };\n"
              "data = { train = { dataset = { " VOC_DS " }; }; };\n");
    ck_assert_int_ne(run_workbench(dir, "", "run.log"), 0);
    char *log = wb_scan_read_text("run.log", NULL);
    ck_assert_msg(strstr(log, "lists no usable image"), "expected a clear message:\n%s", log);
    free(log);
}
END_TEST

static Suite *check_suite(void) {
    Suite *s = suite_create("check");
    TCase *real = tcase_create("shared data");
    tcase_add_test(real, bccd_defects);
    tcase_add_test(real, coco128_clean_with_two_background_images);
    tcase_add_test(real, coco128_yolo_orphans_and_missing_labels);
    suite_add_tcase(s, real);
    TCase *c = tcase_create("corpus");
    tcase_add_loop_test(c, corpus_case_gives_its_message, 0, N_CORPUS);
    tcase_add_test(c, fix_to_writes_a_clean_copy);
    tcase_add_test(c, plugin_dataset_is_checked_through_its_plugin);
    suite_add_tcase(s, c);
    TCase *run = tcase_create("run");
    tcase_set_timeout(run, 120);
    tcase_add_test(run, run_skips_or_fails_on_a_corrupt_image);
    tcase_add_test(run, run_stops_on_a_dataset_without_images);
    suite_add_tcase(s, run);
    return s;
}

int main(void) { return wbt_run_suite(check_suite()); }
