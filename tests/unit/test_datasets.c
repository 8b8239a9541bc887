/* The dataset plugins (coco, voc, yolo, synthetic) loaded from their built
 * .so files and driven through the vtable with a real context: counts on
 * the shared data, coco vs yolo on the same images, determinism, threads,
 * and generated broken inputs. */
#include <libconfig.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/params.h"
#include "data/data_root.h"
#include "wbtest.h"

#define SHARED WB_SOURCE_DIR "/../shared/datasets"
#define TMP WB_BINARY_DIR "/test_datasets_tmp"

static void require_shared(void) {
    struct stat sb;
    ck_assert_msg(stat(SHARED, &sb) == 0 && S_ISDIR(sb.st_mode),
                  "shared datasets not found at %s: these tests need ../shared beside the checkout", SHARED);
}

/* An opened dataset with its environment and config. */
typedef struct opened {
    wbt_env env;
    config_t cfg;
    const wb_dataset_vtable *vt;
    void *ds;
    wb_status status;
} opened;

static void open_with(opened *o, const char *type, const char *cfg_text) {
    wbt_env_init(&o->env, NULL, 1);
    o->vt = wbt_dataset_plugin(WB_PLUGIN_BUILD_DIR, type);
    config_init(&o->cfg);
    ck_assert_msg(config_read_string(&o->cfg, cfg_text) == CONFIG_TRUE, "bad test config: %s",
                  config_error_text(&o->cfg));
    o->ds = NULL;
    o->status = o->vt->open(o->env.ctx, wb_params_of(config_root_setting(&o->cfg)), &o->ds);
}

static void open_ok(opened *o, const char *type, const char *cfg_text) {
    open_with(o, type, cfg_text);
    ck_assert_msg(o->status == WB_OK, "%s open failed: %s", type, o->env.c.msg);
}

/* Expects open to fail with `expect` in the message. */
static void open_fails(const char *type, const char *cfg_text, const char *expect) {
    opened o;
    open_with(&o, type, cfg_text);
    printf("%-6s broken input -> %s\n", type, o.env.c.msg);
    ck_assert_msg(o.status != WB_OK, "%s opened although broken: %s", type, cfg_text);
    ck_assert_ptr_null(o.ds);
    ck_assert_msg(strstr(o.env.c.msg, expect) != NULL, "message '%s' lacks '%s'", o.env.c.msg, expect);
    config_destroy(&o.cfg);
    wbt_env_free(&o.env);
}

static void close_opened(opened *o) {
    if (o->ds) o->vt->close(o->ds);
    config_destroy(&o->cfg);
    wbt_env_free(&o->env);
}

static void get_ok(opened *o, int64_t i, wb_sample *s) {
    wb_status st = o->vt->get(o->ds, o->env.ctx, i, s);
    ck_assert_msg(st == WB_OK, "get(%lld): %s", (long long)i, o->env.c.msg);
}

static const char *voc_cfg(const char *split) {
    static char buf[512];
    snprintf(buf, sizeof buf, "root = \"%s/bccd\"; split = \"%s\"; classes = [\"RBC\", \"WBC\", \"Platelets\"];",
             SHARED, split);
    return buf;
}

/* ---- counts on the shared data ---- */

START_TEST(test_voc_bccd_counts) {
    require_shared();
    opened o;
    open_ok(&o, "voc", voc_cfg("ImageSets/Main/trainval.txt"));
    ck_assert_int_eq(o.vt->length(o.ds), 292);
    ck_assert_int_eq(o.vt->num_classes(o.ds), 3);
    int64_t per_class[3] = {0}, boxes = 0, ignored = 0;
    for (int64_t i = 0; i < 292; i++) {
        wb_sample s;
        get_ok(&o, i, &s);
        ck_assert_int_eq(s.width, 640);
        ck_assert_int_eq(s.height, 480);
        for (int k = 0; k < s.num_boxes; k++) per_class[s.labels[k]]++, ignored += s.ignore[k];
        boxes += s.num_boxes;
        if (i == 0) { /* BloodImage_00000.xml, first object: WBC 260 177 491 376, as written */
            ck_assert_str_eq(strrchr(s.image_path, '/') + 1, "BloodImage_00000.jpg");
            ck_assert_str_eq(o.vt->class_name(o.ds, s.labels[0]), "WBC");
            const float want[4] = {260, 177, 491, 376};
            for (int c = 0; c < 4; c++) ck_assert_float_eq(s.boxes[c], want[c]);
        }
        o.vt->release_sample(o.ds, &s);
    }
    ck_assert_int_eq(boxes, 3943);
    ck_assert_int_eq(per_class[0], 3350);
    ck_assert_int_eq(per_class[1], 301);
    ck_assert_int_eq(per_class[2], 292);
    ck_assert_int_eq(ignored, 0); /* BCCD marks nothing difficult */
    close_opened(&o);
    open_ok(&o, "voc", voc_cfg("ImageSets/Main/train.txt"));
    ck_assert_int_eq(o.vt->length(o.ds), 205);
    close_opened(&o);
}
END_TEST

static const char *coco_cfg(const char *extra) {
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "ann_file = \"%s/coco128/annotations/instances_train2017.json\"; img_dir = \"%s/coco128/images/train2017\"; %s",
             SHARED, SHARED, extra);
    return buf;
}

START_TEST(test_coco128_counts) {
    require_shared();
    opened o;
    open_ok(&o, "coco", coco_cfg(""));
    ck_assert_int_eq(o.vt->length(o.ds), 128);
    ck_assert_int_eq(o.vt->num_classes(o.ds), 80);
    /* Original ids restored: labels in id order over 1..90 with gaps. */
    ck_assert_int_eq(o.vt->category_id(o.ds, 0), 1);
    ck_assert_str_eq(o.vt->class_name(o.ds, 0), "person");
    ck_assert_int_eq(o.vt->category_id(o.ds, 79), 90);
    ck_assert_str_eq(o.vt->class_name(o.ds, 79), "toothbrush");
    ck_assert_int_eq(o.vt->category_id(o.ds, 16), 18);
    ck_assert_str_eq(o.vt->class_name(o.ds, 16), "dog");
    int64_t boxes = 0, crowd = 0;
    int used[80] = {0}, n_used = 0;
    for (int64_t i = 0; i < 128; i++) {
        wb_sample s;
        get_ok(&o, i, &s);
        for (int k = 0; k < s.num_boxes; k++) {
            crowd += s.ignore[k];
            n_used += !used[s.labels[k]]++;
            ck_assert_msg(s.boxes[4 * k + 2] >= s.boxes[4 * k] && s.boxes[4 * k + 3] >= s.boxes[4 * k + 1], "xyxy");
        }
        boxes += s.num_boxes;
        o.vt->release_sample(o.ds, &s);
    }
    ck_assert_int_eq(boxes, 939);
    ck_assert_int_eq(crowd, 10);
    ck_assert_int_eq(n_used, 71);
    close_opened(&o);

    /* Subset: labels follow id order (person 1 -> 0, dog 18 -> 1); filter_empty
     * keeps the 68 images with a person or dog (268 boxes, pycocotools count). */
    open_ok(&o, "coco", coco_cfg("classes = [\"dog\", \"person\"]; filter_empty = true;"));
    ck_assert_int_eq(o.vt->num_classes(o.ds), 2);
    ck_assert_str_eq(o.vt->class_name(o.ds, 0), "person");
    ck_assert_int_eq(o.vt->category_id(o.ds, 1), 18);
    ck_assert_int_eq(o.vt->length(o.ds), 68);
    boxes = 0;
    for (int64_t i = 0; i < 68; i++) {
        wb_sample s;
        get_ok(&o, i, &s);
        boxes += s.num_boxes;
        o.vt->release_sample(o.ds, &s);
    }
    ck_assert_int_eq(boxes, 268);
    close_opened(&o);
    /* Two coco128 images have no annotation at all. */
    open_ok(&o, "coco", coco_cfg("filter_empty = true;"));
    ck_assert_int_eq(o.vt->length(o.ds), 126);
    close_opened(&o);
    open_ok(&o, "coco", coco_cfg("min_size = 481;")); /* drops images whose shorter side is <= 480 */
    ck_assert_int_lt(o.vt->length(o.ds), 128);
    close_opened(&o);
}
END_TEST

static const char *yolo_cfg(void) {
    static char buf[512];
    snprintf(buf, sizeof buf, "images = \"%s/coco128/images/train2017\"; names_file = \"%s/coco128/data.yaml\";",
             SHARED, SHARED);
    return buf;
}

/* Same images, two formats: the non-crowd COCO boxes and the YOLO boxes
 * agree within 1 px (YOLO stores 6 decimals of the normalized value: at
 * 640 px that is 0.0003 px, so 1 px only absorbs float rounding) and name
 * the same classes. */
START_TEST(test_coco_vs_yolo) {
    require_shared();
    opened c, y;
    open_ok(&c, "coco", coco_cfg(""));
    open_ok(&y, "yolo", yolo_cfg());
    ck_assert_int_eq(y.vt->num_classes(y.ds), 80);
    ck_assert_str_eq(y.vt->class_name(y.ds, 79), "toothbrush");
    ck_assert_int_eq(y.vt->length(y.ds), 128);
    double worst = 0;
    int64_t matched = 0;
    for (int64_t i = 0; i < 128; i++) {
        wb_sample cs, ys;
        get_ok(&c, i, &cs);
        const char *name = strrchr(cs.image_path, '/') + 1;
        int64_t j = 0;
        for (; j < 128; j++) { /* yolo lists the folder sorted; coco uses file order */
            wb_sample probe;
            get_ok(&y, j, &probe);
            int same = strcmp(strrchr(probe.image_path, '/') + 1, name) == 0;
            y.vt->release_sample(y.ds, &probe);
            if (same) break;
        }
        ck_assert_msg(j < 128, "%s is not in the yolo dataset", name);
        get_ok(&y, j, &ys);
        ck_assert_int_eq(ys.width, cs.width);
        ck_assert_int_eq(ys.height, cs.height);
        int non_crowd = 0;
        for (int k = 0; k < cs.num_boxes; k++) {
            if (cs.ignore[k]) continue;
            non_crowd++;
            double best = INFINITY;
            for (int m = 0; m < ys.num_boxes; m++) {
                if (strcmp(c.vt->class_name(c.ds, cs.labels[k]), y.vt->class_name(y.ds, ys.labels[m])) != 0) continue;
                double d = 0;
                for (int q = 0; q < 4; q++) d = fmax(d, fabs(cs.boxes[4 * k + q] - ys.boxes[4 * m + q]));
                best = fmin(best, d);
            }
            ck_assert_msg(best <= 1.0, "%s: coco box %d (%s) has no yolo box within 1 px (closest %.2f)", name, k,
                          c.vt->class_name(c.ds, cs.labels[k]), best);
            worst = fmax(worst, best);
            matched++;
        }
        ck_assert_msg(non_crowd == ys.num_boxes, "%s: %d non-crowd coco boxes, %d yolo boxes", name, non_crowd,
                      ys.num_boxes);
        c.vt->release_sample(c.ds, &cs);
        y.vt->release_sample(y.ds, &ys);
    }
    ck_assert_int_eq(matched, 939 - 10);
    printf("coco vs yolo: %lld boxes matched, worst coordinate difference %.4f px\n", (long long)matched, worst);
    close_opened(&c);
    close_opened(&y);
}
END_TEST

/* ---- threads: get from 4 threads equals get from one ---- */

typedef struct worker {
    opened *o;
    int start;
    double checksum;
} worker;

static double sample_checksum(const wb_sample *s) {
    double sum = s->width * 7.0 + s->height;
    for (int k = 0; k < s->num_boxes; k++)
        sum += s->labels[k] * 3.0 + s->ignore[k] + s->boxes[4 * k] + 2 * s->boxes[4 * k + 3];
    if (s->pixels)
        for (int64_t p = 0; p < (int64_t)s->width * s->height * 3; p += 97) sum += s->pixels[p];
    return sum;
}

static void *work(void *arg) {
    worker *w = arg;
    int64_t n = w->o->vt->length(w->o->ds);
    wbt_env env; /* each thread its own context, as loader workers */
    wbt_env_init(&env, NULL, 1);
    for (int64_t k = 0; k < n; k++) {
        wb_sample s;
        int64_t i = (k + w->start) % n;
        if (w->o->vt->get(w->o->ds, env.ctx, i, &s) != WB_OK) {
            w->checksum = NAN;
            break;
        }
        w->checksum += sample_checksum(&s) * (double)(i + 1);
        w->o->vt->release_sample(w->o->ds, &s);
    }
    wbt_env_free(&env);
    return NULL;
}

static void check_threads(const char *type, const char *cfg) {
    opened o;
    open_ok(&o, type, cfg);
    worker one = {&o, 0, 0};
    work(&one);
    pthread_t t[4];
    worker ws[4];
    for (int k = 0; k < 4; k++) {
        ws[k] = (worker){&o, k * 37, 0};
        ck_assert_int_eq(pthread_create(&t[k], NULL, work, &ws[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(t[k], NULL);
        ck_assert_msg(fabs(ws[k].checksum - one.checksum) <= 1e-9 * fabs(one.checksum),
                      "%s: thread %d saw different samples", type, k);
    }
    close_opened(&o);
}

START_TEST(test_threads) {
    require_shared();
    check_threads("yolo", yolo_cfg());
    check_threads("coco", coco_cfg(""));
    check_threads("synthetic", "num_images = 24; image_size = 96; seed = 5;");
}
END_TEST

/* ---- synthetic ---- */

START_TEST(test_synthetic) {
    opened a, b, c;
    open_ok(&a, "synthetic", "num_images = 16; image_size = 128; num_classes = 3; max_objects = 5; seed = 3;");
    open_ok(&b, "synthetic", "num_images = 16; image_size = 128; num_classes = 3; max_objects = 5; seed = 3;");
    open_ok(&c, "synthetic", "num_images = 16; image_size = 128; num_classes = 3; max_objects = 5; seed = 4;");
    ck_assert_int_eq(a.vt->length(a.ds), 16);
    ck_assert_str_eq(a.vt->class_name(a.ds, 1), "ellipse");
    int differ = 0, kinds[3] = {0};
    for (int64_t i = 0; i < 16; i++) {
        wb_sample sa, sb, sc;
        get_ok(&a, i, &sa);
        get_ok(&b, i, &sb);
        get_ok(&c, i, &sc);
        size_t bytes = 128 * 128 * 3;
        ck_assert_int_eq(sa.width, 128);
        ck_assert_int_eq(memcmp(sa.pixels, sb.pixels, bytes), 0); /* same seed, same image */
        ck_assert_int_eq(sa.num_boxes, sb.num_boxes);
        differ += memcmp(sa.pixels, sc.pixels, bytes) != 0;
        ck_assert_int_ge(sa.num_boxes, 1);
        ck_assert_int_le(sa.num_boxes, 5);
        for (int k = 0; k < sa.num_boxes; k++) {
            const float *bx = sa.boxes + 4 * k;
            ck_assert_msg(bx[0] >= 0 && bx[1] >= 0 && bx[2] <= 128 && bx[3] <= 128 && bx[2] > bx[0] && bx[3] > bx[1],
                          "box outside the image");
            kinds[sa.labels[k]]++;
        }
        /* The last shape is drawn on top: its box centre has the class colour
         * (rectangle red, ellipse green, triangle blue: that channel dominates). */
        const float *bx = sa.boxes + 4 * (sa.num_boxes - 1);
        const uint8_t *px = sa.pixels + ((size_t)((bx[1] + bx[3]) / 2) * 128 + (size_t)((bx[0] + bx[2]) / 2)) * 3;
        int ch = sa.labels[sa.num_boxes - 1], o1 = (ch + 1) % 3, o2 = (ch + 2) % 3;
        ck_assert_msg(px[ch] > px[o1] + 60 && px[ch] > px[o2] + 60, "image %lld: shape colour missing at box centre",
                      (long long)i);
        a.vt->release_sample(a.ds, &sa);
        b.vt->release_sample(b.ds, &sb);
        c.vt->release_sample(c.ds, &sc);
    }
    ck_assert_int_eq(differ, 16);
    ck_assert_msg(kinds[0] && kinds[1] && kinds[2], "every shape kind appears");
    close_opened(&a);
    close_opened(&b);
    close_opened(&c);
    open_fails("synthetic", "num_classes = 4;", "num_classes <= 3");
}
END_TEST

/* ---- broken inputs, generated ---- */

static const char *tmp_file(const char *name, const char *content) {
    static char path[4][512];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, 512, "%s/%s", TMP, name);
    for (char *s = strchr(p + strlen(TMP) + 1, '/'); s; s = strchr(s + 1, '/')) { /* make parent folders */
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
    return p;
}

static void coco_json_fails(const char *json, const char *expect) {
    mkdir(TMP, 0755);
    const char *path = tmp_file("broken.json", json);
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "ann_file = \"%s\"; img_dir = \"%s\";", path, TMP);
    open_fails("coco", cfg, expect);
}

#define CATS "\"categories\": [{\"id\": 3, \"name\": \"car\"}]"
#define IMGS "\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 10, \"height\": 8}]"

START_TEST(test_coco_broken) {
    coco_json_fails("", "file is empty");
    coco_json_fails("[1, 2]", "expected an object at line 1, column 1");
    coco_json_fails("{\"images\": [", "unexpected end of file");
    coco_json_fails("{" IMGS ", " CATS ", \"annotations\": [{\"image_id\": 1, \"category_id\": 3, \"bbox\": \"1 2 3 4\"}]}",
                    "annotations[0].bbox: expected an array of 4 numbers");
    coco_json_fails("{" IMGS ", " CATS ", \"annotations\": [{\"image_id\": 1, \"category_id\": 3, \"bbox\": [1, 2, 3]}]}",
                    "annotations[0].bbox: expected an array of 4 numbers");
    coco_json_fails("{" IMGS ", " CATS ", \"annotations\": [{\"image_id\": 1, \"category_id\": 3}]}",
                    "annotations[0].bbox: missing key");
    coco_json_fails("{" IMGS ", " CATS ", \"annotations\": [{\"image_id\": \"1\", \"category_id\": 3, \"bbox\": [0,0,1,1]}]}",
                    "annotations[0].image_id: expected a number");
    coco_json_fails("{\"images\": [{\"file_name\": \"a.jpg\"}], " CATS "}", "images[0].id: missing key");
    coco_json_fails("{" IMGS "}", "categories: missing top-level key");
    coco_json_fails("{" IMGS ", " CATS "} trailing", "text after the top-level object");
    coco_json_fails("{\"images\": [{\"id\": 1, \"file_name\": \"a\x01.jpg\"}], " CATS "}", "control character");
    coco_json_fails("{\"images\": [], " CATS "}", "leaves no image");

    /* Accepted: UTF-8 BOM, CRLF, unicode escapes; unknown ids skipped with a warning. */
    const char *ok = tmp_file("ok.json", "\xEF\xBB\xBF{\r\n\"images\": [{\"id\": 1, \"file_name\": \"a b\\u00e9.jpg\", "
                                         "\"width\": 10, \"height\": 8}],\r\n" CATS ",\r\n\"annotations\": ["
                                         "{\"image_id\": 1, \"category_id\": 3, \"bbox\": [1, 2, 3.5, 4], \"iscrowd\": 0},"
                                         "{\"image_id\": 9, \"category_id\": 3, \"bbox\": [1, 2, 3, 4]},"
                                         "{\"image_id\": 1, \"category_id\": 7, \"bbox\": [1, 2, 3, 4]}]}\r\n");
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "ann_file = \"%s\"; img_dir = \"%s\";", ok, TMP);
    opened o;
    open_ok(&o, "coco", cfg);
    wb_sample s;
    get_ok(&o, 0, &s);
    ck_assert_str_eq(strrchr(s.image_path, '/') + 1, "a b\xC3\xA9.jpg");
    ck_assert_int_eq(s.num_boxes, 1);
    const float want[4] = {1, 2, 4.5f, 6};
    for (int c = 0; c < 4; c++) ck_assert_float_eq(s.boxes[c], want[c]);
    o.vt->release_sample(o.ds, &s);
    ck_assert_int_eq(o.vt->get(o.ds, o.env.ctx, 1, &s), WB_ERR_INVALID);
    close_opened(&o);
}
END_TEST

static const char *voc_xml(const char *objects, int with_size) {
    static char buf[2048];
    snprintf(buf, sizeof buf, "<annotation><filename>x.jpg</filename>%s%s</annotation>",
             with_size ? "<size><width>64</width><height>48</height><depth>3</depth></size>" : "", objects);
    return buf;
}

#define VOC_OBJ(name, extra, box) \
    "<object><name>" name "</name>" extra "<bndbox>" box "</bndbox></object>"
#define BOX "<xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40.5</ymax>"

START_TEST(test_voc_broken) {
    mkdir(TMP, 0755);
    const char *root = TMP "/voc root"; /* a path with a space */
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "root = \"%s\"; split = \"list.txt\"; classes = [\"cat\", \"dog\"];", root);
    /* CRLF and a BOM in the split file; ids: good, no size, difficult, unknown class, bad XML, no bndbox,
     * non-numeric coordinate, missing file. */
    tmp_file("voc root/list.txt", "\xEF\xBB\xBFgood\r\nnosize\r\ndifficult\r\nunknown\r\nbadxml\r\nnobox\r\nnan\r\nmissing\r\n");
    tmp_file("voc root/Annotations/good.xml", voc_xml(VOC_OBJ("dog", "<truncated>1</truncated>", BOX), 1));
    tmp_file("voc root/Annotations/nosize.xml", voc_xml(VOC_OBJ("cat", "", BOX), 0));
    tmp_file("voc root/Annotations/difficult.xml", voc_xml(VOC_OBJ("cat", "<difficult>1</difficult>", BOX), 1));
    tmp_file("voc root/Annotations/unknown.xml", voc_xml(VOC_OBJ("horse", "", BOX) VOC_OBJ("cat", "", BOX), 1));
    tmp_file("voc root/Annotations/badxml.xml", "<annotation><object></annotation>");
    tmp_file("voc root/Annotations/nobox.xml", voc_xml("<object><name>cat</name></object>", 1));
    tmp_file("voc root/Annotations/nan.xml",
             voc_xml(VOC_OBJ("cat", "", "<xmin>a</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax>"), 1));
    opened o;
    open_ok(&o, "voc", cfg);
    ck_assert_int_eq(o.vt->length(o.ds), 4); /* good, nosize, difficult, unknown */
    wb_sample s;
    get_ok(&o, 0, &s);
    ck_assert_int_eq(s.width, 64);
    ck_assert_int_eq(s.num_boxes, 1);
    ck_assert_int_eq(s.labels[0], 1);
    ck_assert_float_eq(s.boxes[3], 40.5f); /* coordinates as written, fractions kept */
    ck_assert_int_eq(s.ignore[0], 0);
    o.vt->release_sample(o.ds, &s);
    get_ok(&o, 1, &s);
    ck_assert_int_eq(s.width, 0); /* no <size>: unknown until decoded */
    o.vt->release_sample(o.ds, &s);
    get_ok(&o, 2, &s);
    ck_assert_int_eq(s.ignore[0], 1); /* difficult -> ignore */
    o.vt->release_sample(o.ds, &s);
    get_ok(&o, 3, &s);
    ck_assert_int_eq(s.num_boxes, 1); /* horse skipped */
    o.vt->release_sample(o.ds, &s);
    close_opened(&o);

    snprintf(cfg, sizeof cfg, "root = \"%s\"; split = \"nope.txt\"; classes = [\"cat\"];", root);
    open_fails("voc", cfg, "cannot read split file");
    snprintf(cfg, sizeof cfg, "root = \"%s/absent\"; classes = [\"cat\"];", root);
    open_fails("voc", cfg, "is not a folder");
    snprintf(cfg, sizeof cfg, "root = \"%s\"; split = \"list.txt\"; classes = [];", root);
    open_fails("voc", cfg, "`classes` is empty");
    tmp_file("voc root/bad_only.txt", "badxml\n");
    snprintf(cfg, sizeof cfg, "root = \"%s\"; split = \"bad_only.txt\"; classes = [\"cat\"];", root);
    open_fails("voc", cfg, "lists no usable image");
}
END_TEST

START_TEST(test_yolo_broken) {
    require_shared();
    mkdir(TMP, 0755);
    /* A real image copied under a path with spaces, labels beside it. */
    FILE *src = fopen(SHARED "/bccd/JPEGImages/BloodImage_00000.jpg", "rb");
    ck_assert_ptr_nonnull(src);
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, src);
    fclose(src);
    const char *names[] = {"a b", "crlf", "nolabel", "broken"};
    for (int k = 0; k < 4; k++) {
        char rel[128];
        snprintf(rel, sizeof rel, "yolo set/images/%s.jpg", names[k]);
        const char *p = tmp_file(rel, "");
        FILE *f = fopen(p, "wb");
        fwrite(buf, 1, n, f);
        fclose(f);
    }
    tmp_file("yolo set/labels/a b.txt", "\xEF\xBB\xBF" "1 0.5 0.5 0.25 0.5\n\n0 0.1 0.1 0.1 0.1\n");
    tmp_file("yolo set/labels/crlf.txt", "0 0.5 0.5 0.5 0.5\r\n1 0.2 0.2 0.1 0.1 0.3 0.3\r\n"); /* polygon: 3 points */
    tmp_file("yolo set/labels/broken.txt",
             "0 0.5 0.5 0.5\n"        /* 4 numbers */
             "7 0.5 0.5 0.5 0.5\n"    /* label out of range */
             "0 0.5 0.5 -0.2 0.5\n"   /* negative width */
             "0 0.5 nan 0.2 0.5\n"    /* NaN */
             "0 0.5 x 0.2 0.5\n"      /* not a number */
             "1 0.5 0.5 0.5 0.5\n");  /* the one good line */
    tmp_file("yolo set/labels/orphan.txt", "0 0.5 0.5 0.5 0.5\n");
    tmp_file("yolo set/names.txt", "cat\r\ndog\r\n");
    tmp_file("yolo set/list.txt", "./images/a b.jpg\nimages/crlf.jpg\n");
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "images = \"%s/yolo set/images\"; names_file = \"%s/yolo set/names.txt\";", TMP, TMP);
    opened o;
    open_ok(&o, "yolo", cfg);
    ck_assert_int_eq(o.vt->length(o.ds), 4); /* sorted: a b, broken, crlf, nolabel */
    ck_assert_str_eq(o.vt->class_name(o.ds, 1), "dog");
    wb_sample s;
    get_ok(&o, 0, &s);
    ck_assert_int_eq(s.width, 640);
    ck_assert_int_eq(s.num_boxes, 2);
    const float want[4] = {240, 120, 400, 360}; /* 1 0.5 0.5 0.25 0.5 at 640x480 */
    for (int c = 0; c < 4; c++) ck_assert_float_eq_tol(s.boxes[c], want[c], 1e-3);
    o.vt->release_sample(o.ds, &s);
    get_ok(&o, 1, &s);
    ck_assert_int_eq(s.num_boxes, 1); /* only the good line of broken.txt */
    ck_assert_int_eq(s.labels[0], 1);
    o.vt->release_sample(o.ds, &s);
    get_ok(&o, 2, &s);
    ck_assert_int_eq(s.num_boxes, 2);
    ck_assert_float_eq_tol(s.boxes[4 + 0], 0.1f * 640, 1e-3); /* polygon bounds: x in 0.1..0.3 */
    ck_assert_float_eq_tol(s.boxes[4 + 2], 0.3f * 640, 1e-3);
    o.vt->release_sample(o.ds, &s);
    get_ok(&o, 3, &s);
    ck_assert_int_eq(s.num_boxes, 0); /* no label file: background image */
    o.vt->release_sample(o.ds, &s);
    close_opened(&o);

    /* A list file with ./ and relative entries; names inline. */
    snprintf(cfg, sizeof cfg, "images = \"%s/yolo set/list.txt\"; names = [\"cat\", \"dog\"];", TMP);
    open_ok(&o, "yolo", cfg);
    ck_assert_int_eq(o.vt->length(o.ds), 2);
    close_opened(&o);

    /* Image unreadable at get time: an error naming the file, not a crash. */
    tmp_file("yolo set/images/broken.jpg", "");
    snprintf(cfg, sizeof cfg, "images = \"%s/yolo set/images\"; names = [\"cat\", \"dog\"];", TMP);
    open_ok(&o, "yolo", cfg);
    ck_assert_int_eq(o.vt->get(o.ds, o.env.ctx, 1, &s), WB_ERR_IO);
    ck_assert_msg(strstr(o.env.c.msg, "broken.jpg: file is empty") != NULL, "%s", o.env.c.msg);
    close_opened(&o);

    snprintf(cfg, sizeof cfg, "images = \"%s/yolo set/images\";", TMP);
    open_fails("yolo", cfg, "give the class names");
    snprintf(cfg, sizeof cfg, "images = \"%s/nowhere\"; names = [\"a\"];", TMP);
    open_fails("yolo", cfg, "neither a folder nor a list file");
}
END_TEST

/* ---- data_root ---- */

/* Each plugin resolves its relative paths against data_root; absolute
 * paths ignore it. Counts as in the tests above. */
START_TEST(test_data_root_in_plugins) {
    require_shared();
    opened o;
    open_ok(&o, "coco", "data_root = \"" SHARED "/coco128\"; ann_file = \"annotations/instances_train2017.json\";"
                        " img_dir = \"images/train2017\";");
    ck_assert_int_eq(o.vt->length(o.ds), 128);
    wb_sample s;
    get_ok(&o, 0, &s);
    ck_assert_msg(strncmp(s.image_path, SHARED "/coco128/images/train2017/", strlen(SHARED) + 26) == 0, "%s",
                  s.image_path);
    o.vt->release_sample(o.ds, &s);
    close_opened(&o);
    open_ok(&o, "voc", "data_root = \"" SHARED "/bccd\"; split = \"ImageSets/Main/trainval.txt\";"
                       " classes = [\"RBC\", \"WBC\", \"Platelets\"];");
    ck_assert_int_eq(o.vt->length(o.ds), 292);
    close_opened(&o);
    open_ok(&o, "yolo", "data_root = \"/nonexistent\"; images = \"" SHARED "/coco128/images/train2017\";"
                        " names_file = \"" SHARED "/coco128/data.yaml\";");
    ck_assert_int_eq(o.vt->length(o.ds), 128);
    close_opened(&o);
    open_fails("coco", "data_root = \"/nonexistent\"; ann_file = \"a.json\"; img_dir = \"i\";", "/nonexistent/a.json");
}
END_TEST

/* One override of data.data_root redirects every split of a base: the
 * core gives it to each dataset section, except one that sets its own, and
 * the plugins then open from any working directory. */
START_TEST(test_data_root_redirects_every_split) {
    require_shared();
    mkdir(TMP, 0755);
    const char *conf = TMP "/data_root.conf";
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "@include \"%s/configs/_base_/datasets/coco128_yolo.conf\"\n"
               "data = { test = { dataset = { type = \"yolo\"; data_root = \"/own\"; images = \"x\"; }; }; };\n",
            WB_SOURCE_DIR);
    fclose(f);
    wb_config *cfg = wb_config_new();
    ck_assert_int_eq(wb_config_load(cfg, conf), 0);
    wb_config_override(cfg, "data.data_root=" SHARED "/coco128");
    wb_data_root_fill(cfg, NULL);
    ck_assert_str_eq(wb_params_string(wb_config_params(cfg, "data.train.dataset"), "data_root"), SHARED "/coco128");
    ck_assert_str_eq(wb_params_string(wb_config_params(cfg, "data.val.dataset"), "data_root"), SHARED "/coco128");
    ck_assert_str_eq(wb_params_string(wb_config_params(cfg, "data.test.dataset"), "data_root"), "/own");
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir("/"), 0); /* the base's own relative data_root would not resolve here */
    const wb_dataset_vtable *vt = wbt_dataset_plugin(WB_PLUGIN_BUILD_DIR, "yolo");
    for (int k = 0; k < 2; k++) {
        wbt_env env;
        wbt_env_init(&env, NULL, 1);
        void *ds = NULL;
        const wb_params *p = wb_config_params(cfg, k ? "data.val.dataset" : "data.train.dataset");
        ck_assert_msg(vt->open(env.ctx, p, &ds) == WB_OK, "%s", env.c.msg);
        ck_assert_int_eq(vt->length(ds), 128);
        vt->close(ds);
        wbt_env_free(&env);
    }
    ck_assert_int_eq(chdir(cwd), 0);
    wb_config_free(cfg);
}
END_TEST

static Suite *datasets_suite(void) {
    Suite *s = suite_create("datasets");
    TCase *tc = tcase_create("plugins");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_voc_bccd_counts);
    tcase_add_test(tc, test_coco128_counts);
    tcase_add_test(tc, test_coco_vs_yolo);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_synthetic);
    tcase_add_test(tc, test_coco_broken);
    tcase_add_test(tc, test_voc_broken);
    tcase_add_test(tc, test_yolo_broken);
    tcase_add_test(tc, test_data_root_in_plugins);
    tcase_add_test(tc, test_data_root_redirects_every_split);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return wbt_run_suite(datasets_suite()); }
