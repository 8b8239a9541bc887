/* Loading weights: F16 and BF16 files written by torch (tests/parity/gen_half.py
 * through tools/export_torchvision.py's writer) read as exactly the float32
 * values torch widens them to, load_from takes them, and a checkpoint written
 * from them is float32 again; a file that does not fit the model is described
 * with names, shapes and counts, never an empty field; class names in the
 * metadata round-trip and hostile ones are refused. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "io/safetensors.h"
#include "runtime/host_tensors.h"
#include "train/checkpoint.h"
#include "wbtest.h"

static const char *const DTYPES[] = {"F16", "BF16"};

static void half_path(const char *dtype, char *path, size_t size) {
    snprintf(path, size, "%s/half_%s.safetensors", WB_PARITY_DIR, dtype);
}

/* Bit for bit: widening is exact, and -0.0 and NaN must survive it. */
static void assert_same_bits(const char *what, const float *got, const float *want, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        bool same = memcmp(&got[i], &want[i], sizeof(float)) == 0 || (isnan(got[i]) && isnan(want[i]));
        ck_assert_msg(same, "%s[%lld]: %.9g here, torch widens it to %.9g", what, (long long)i, got[i], want[i]);
    }
}

START_TEST(test_half_files_read_as_torch_widens_them) {
    const char *dtype = DTYPES[_i];
    wb_st_file ref, f;
    if (!wbt_parity_open("half_reference", &ref)) return;
    char path[4096], err[1024];
    half_path(dtype, path, sizeof path);
    ck_assert_msg(wb_st_read(path, &f, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(f.count, 3);
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *t = &f.tensors[i];
        char key[64];
        snprintf(key, sizeof key, "%s:%s", dtype, t->name);
        ck_assert_int_eq(t->dtype, _i == 0 ? WB_ST_F16 : WB_ST_BF16);
        assert_same_bits(key, t->data, wbt_parity_tensor(&ref, key, t->numel), t->numel);
        printf("%s: %lld values equal torch's .float() bit for bit\n", key, (long long)t->numel);
    }
    const wb_st_tensor *special = wb_st_find(&f, "special");
    ck_assert(isinf(special->data[0]) && special->data[0] > 0 && isinf(special->data[1]) && special->data[1] < 0);
    ck_assert(isnan(special->data[2]) && special->data[3] == 0.0f && signbit(special->data[3]));
    wb_st_free(&f);
    wb_st_free(&ref);
}
END_TEST

/* A session with parameters net.w [4, 6] and net.b [6] (both 0). */
static wb_session *half_net(wb_context *c) {
    wb_session *s = wb_session_create(NULL, 0);
    wb_context_init(c, s, "net", true);
    wb_init zero = {.kind = WB_INIT_CONSTANT, .value = 0.0f};
    wb_host_param_create(&c->pub, "w", 2, (int64_t[]){4, 6}, &zero, 1);
    wb_host_param_create(&c->pub, "b", 1, (int64_t[]){6}, &zero, 1);
    return s;
}

/* load_from of an F16 / BF16 file sets the weights to torch's widened
 * values; the checkpoint then saved is float32 (resume state never narrows). */
START_TEST(test_load_from_half_then_save_float32) {
    const char *dtype = DTYPES[_i];
    wb_st_file ref, saved;
    if (!wbt_parity_open("half_reference", &ref)) return;
    char path[4096], out[4096], err[2048], key[64];
    half_path(dtype, path, sizeof path);
    wb_context c;
    wb_session *s = half_net(&c);
    wb_load_report rep;
    ck_assert_msg(wb_checkpoint_load(path, s, NULL, &rep, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(rep.matched, 2);
    ck_assert_int_eq(rep.widened, 2);
    ck_assert_int_eq(rep.unexpected, 1); /* "special" (its inf and NaN are not loaded: no such parameter) */
    for (int i = 0; i < s->n_params; i++) {
        snprintf(key, sizeof key, "%s:%s", dtype, s->params[i].name);
        const wb_tensor *p = s->params[i].tensor;
        assert_same_bits(key, p->data, wbt_parity_tensor(&ref, key, p->numel), p->numel);
    }
    snprintf(out, sizeof out, "%s/test_ckpt_load_%s_%d.safetensors", WB_BINARY_DIR, dtype, (int)getpid());
    ck_assert_msg(wb_checkpoint_save(out, s, NULL, NULL, NULL, NULL, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_msg(wb_st_read(out, &saved, err, sizeof err) == WB_OK, "%s", err);
    unlink(out);
    for (int i = 0; i < saved.count; i++) {
        ck_assert_msg(saved.tensors[i].dtype == WB_ST_F32, "%s saved narrowed", saved.tensors[i].name);
        snprintf(key, sizeof key, "%s:%s", dtype, saved.tensors[i].name);
        assert_same_bits(key, saved.tensors[i].data, wbt_parity_tensor(&ref, key, saved.tensors[i].numel),
                         saved.tensors[i].numel);
    }
    printf("load_from %s: %d tensors widened, loaded, saved again as F32\n", dtype, rep.widened);
    wb_st_free(&saved);
    wb_session_destroy(s);
    wb_st_free(&ref);
}
END_TEST

/* A file of 7 tensors against a model of 8: 6 missing (5 shown with their
 * shapes, then "..."), 1 of another shape (both shapes), 6 unexpected; the
 * description names only the kinds that occur. */
START_TEST(test_mismatch_report_names_shapes_and_counts) {
    char path[4096], err[2048], what[4096];
    snprintf(path, sizeof path, "%s/test_ckpt_mismatch_%d.safetensors", WB_BINARY_DIR, (int)getpid());
    float zeros[64] = {0};
    wb_st_writer *w = wb_st_writer_new();
    wb_st_writer_add(w, "net.p0", 2, (int64_t[]){3, 5}, zeros);
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "old.q%d", i);
        wb_st_writer_add(w, name, 1, (int64_t[]){4}, zeros);
    }
    ck_assert_msg(wb_st_writer_save(w, path, err, sizeof err) == WB_OK, "%s", err);
    wb_st_writer_free(w);

    wb_session *s = wb_session_create(NULL, 0);
    wb_context c;
    wb_context_init(&c, s, "net", true);
    wb_init zero = {.kind = WB_INIT_CONSTANT, .value = 0.0f};
    wb_host_param_create(&c.pub, "p0", 2, (int64_t[]){3, 4}, &zero, 1);
    for (int i = 1; i < 8; i++) {
        char name[32];
        snprintf(name, sizeof name, "p%d", i);
        wb_host_param_create(&c.pub, name, 3, (int64_t[]){2, i, 1}, &zero, 1);
    }
    wb_load_report rep;
    ck_assert_msg(wb_checkpoint_load(path, s, NULL, &rep, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(rep.matched, 0);
    ck_assert_int_eq(rep.missing, 7);
    ck_assert_int_eq(rep.shape_mismatched, 1);
    ck_assert_int_eq(rep.unexpected, 6);
    ck_assert_str_eq(rep.first_missing,
                     "net.p1 [2, 1, 1], net.p2 [2, 2, 1], net.p3 [2, 3, 1], net.p4 [2, 4, 1], net.p5 [2, 5, 1], ...");
    ck_assert_str_eq(rep.first_mismatch, "net.p0: model [3, 4], file [3, 5]");
    wb_load_report_describe(&rep, false, what, sizeof what);
    ck_assert_str_eq(what, "7 missing from the file: net.p1 [2, 1, 1], net.p2 [2, 2, 1], net.p3 [2, 3, 1], "
                           "net.p4 [2, 4, 1], net.p5 [2, 5, 1], ...; 1 with another shape: net.p0: model [3, 4], "
                           "file [3, 5]");
    printf("described: %s\n", what);

    /* Only a shape mismatch: no empty "missing" field. */
    wb_load_report only = {.shape_mismatched = 1};
    snprintf(only.first_mismatch, sizeof only.first_mismatch, "a: model [1], file [2]");
    wb_load_report_describe(&only, true, what, sizeof what);
    ck_assert_str_eq(what, "1 with another shape: a: model [1], file [2]");

    /* A resume says the same. */
    wb_optim_config oc = {.type = WB_OPTIM_SGD};
    wb_optimizer *opt = wb_optimizer_create(s, &oc);
    wb_train_state st = {0};
    wb_load_opts lo = {opt, NULL, &st, false};
    ck_assert(wb_checkpoint_load(path, s, &lo, &rep, err, sizeof err) != WB_OK);
    ck_assert_msg(strstr(err, "cannot resume: 0 of the model's 8 parameters fit; 7 missing from the file: net.p1 "
                              "[2, 1, 1]") && strstr(err, "1 with another shape: net.p0: model [3, 4], file [3, 5]") &&
                  !strstr(err, "(first: )"), "%s", err);
    printf("resume refused: %s\n", err);
    wb_optimizer_destroy(opt);
    unlink(path);
    wb_session_destroy(s);
}
END_TEST

/* ---- class names in the metadata (checkpoint_labels.h) ---- */

/* A checkpoint of one tensor whose metadata is the given key, value pairs
 * (NULL-ended); the labels read from it into l. */
static int labels_of(const char *const *meta, wb_checkpoint_labels *l, char *err, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/test_ckpt_labels_%d.safetensors", WB_BINARY_DIR, (int)getpid());
    float one = 1.0f;
    wb_st_writer *w = wb_st_writer_new();
    wb_st_writer_add(w, "net.w", 1, (int64_t[]){1}, &one);
    for (int i = 0; meta[i]; i += 2) wb_st_writer_meta(w, meta[i], meta[i + 1]);
    ck_assert_msg(wb_st_writer_save(w, path, err, n) == WB_OK, "%s", err);
    wb_st_writer_free(w);
    wb_st_file f;
    ck_assert_msg(wb_st_read_header(path, &f, err, n) == WB_OK, "%s", err);
    unlink(path);
    int rc = wb_checkpoint_labels_read(&f, l, err, n);
    wb_st_free(&f);
    return rc;
}

/* UTF-8 names (Chinese, accents) and the test pipeline survive save and read. */
START_TEST(test_labels_round_trip) {
    char *names[] = {"红细胞", "white cell", "Plättchen"};
    int64_t ids[] = {1, 2, 7};
    wb_checkpoint_labels l = {3, names, ids, "split = \"test\";\npipeline = ( );\n"}, got;
    wb_context c;
    wb_session *s = half_net(&c);
    char path[4096], err[1024];
    snprintf(path, sizeof path, "%s/test_ckpt_labels_rt_%d.safetensors", WB_BINARY_DIR, (int)getpid());
    ck_assert_msg(wb_checkpoint_save(path, s, NULL, NULL, NULL, &l, err, sizeof err) == WB_OK, "%s", err);
    wb_st_file f;
    ck_assert_msg(wb_st_read_header(path, &f, err, sizeof err) == WB_OK, "%s", err);
    unlink(path);
    ck_assert_int_eq(wb_checkpoint_labels_read(&f, &got, err, sizeof err), 1);
    ck_assert_int_eq(got.num_classes, 3);
    for (int k = 0; k < 3; k++) {
        ck_assert_str_eq(got.class_names[k], names[k]);
        ck_assert_int_eq(got.category_ids[k], ids[k]);
    }
    ck_assert_str_eq(got.test_pipeline, l.test_pipeline);
    ck_assert_msg(f.tensors[0].data == NULL, "a header read reads no tensor data");
    wb_checkpoint_labels_free(&got);
    wb_st_free(&f);
    wb_session_destroy(s);
}
END_TEST

static void expect_labels_refused(const char *const *meta, const char *fragment) {
    wb_checkpoint_labels l;
    char err[1024] = "";
    ck_assert_int_eq(labels_of(meta, &l, err, sizeof err), -1);
    ck_assert_msg(strstr(err, fragment), "message '%s' lacks '%s'", err, fragment);
    ck_assert_msg(l.class_names == NULL && l.num_classes == 0, "refused labels are left empty");
    printf("refused: %s\n", err);
}

/* Hostile metadata: each fault refused, naming the key. */
START_TEST(test_labels_hostile) {
    wb_checkpoint_labels l;
    char err[1024];
    const char *none[] = {"format", "workbench-checkpoint-1", NULL};
    ck_assert_int_eq(labels_of(none, &l, err, sizeof err), 0); /* an older checkpoint: no labels, no error */
    const char *count[] = {"num_classes", "2", "class_names", "[\"a\"]", "category_ids", "[1]", NULL};
    expect_labels_refused(count, "__metadata__.class_names is not a JSON array of num_classes = 2 entries");
    const char *ids[] = {"num_classes", "1", "class_names", "[\"a\"]", "category_ids", "[1, 2]", NULL};
    expect_labels_refused(ids, "__metadata__.category_ids is not a JSON array of num_classes = 1 entries");
    const char *zero[] = {"num_classes", "0", "class_names", "[]", "category_ids", "[]", NULL};
    expect_labels_refused(zero, "__metadata__.num_classes is not an integer from 1 to 100000");
    const char *huge[] = {"num_classes", "99999999999", "class_names", "[]", "category_ids", "[]", NULL};
    expect_labels_refused(huge, "__metadata__.num_classes is not an integer");
    const char *missing[] = {"num_classes", "1", "category_ids", "[1]", NULL};
    expect_labels_refused(missing, "__metadata__.class_names is missing");
    const char *bad_utf8[] = {"num_classes", "1", "class_names", "[\"\xc3\x28\"]", "category_ids", "[1]", NULL};
    expect_labels_refused(bad_utf8, "__metadata__.class_names entry 0 is not a UTF-8 string");
    const char *overlong[] = {"num_classes", "1", "class_names", "[\"\xc0\xaf\"]", "category_ids", "[1]", NULL};
    expect_labels_refused(overlong, "entry 0 is not a UTF-8 string");
    const char *control[] = {"num_classes", "1", "class_names", "[\"a\\u001b[31m\"]", "category_ids", "[1]", NULL};
    expect_labels_refused(control, "without control characters");
    char long_name[400] = "[\"";
    memset(long_name + 2, 'x', 300);
    strcpy(long_name + 302, "\"]");
    const char *too_long[] = {"num_classes", "1", "class_names", long_name, "category_ids", "[1]", NULL};
    expect_labels_refused(too_long, "of at most 255 bytes");
    const char *number[] = {"num_classes", "1", "class_names", "[3]", "category_ids", "[1]", NULL};
    expect_labels_refused(number, "entry 0 is not a UTF-8 string");
    const char *frac[] = {"num_classes", "1", "class_names", "[\"a\"]", "category_ids", "[1.5]", NULL};
    expect_labels_refused(frac, "__metadata__.category_ids entry 0 is not an integer from 0 to 2^53");
    const char *pipe[] = {"num_classes", "1", "class_names", "[\"a\"]", "category_ids", "[1]", "test_pipeline",
                          "\x01", NULL};
    expect_labels_refused(pipe, "__metadata__.test_pipeline is not UTF-8 text");
}
END_TEST

int main(void) {
    Suite *s = suite_create("checkpoint_load");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_half_files_read_as_torch_widens_them, 0, 2);
    tcase_add_loop_test(tc, test_load_from_half_then_save_float32, 0, 2);
    tcase_add_test(tc, test_mismatch_report_names_shapes_and_counts);
    tcase_add_test(tc, test_labels_round_trip);
    tcase_add_test(tc, test_labels_hostile);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
