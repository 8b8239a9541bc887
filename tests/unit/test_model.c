/* The model runtime with real plugins: building, shape checks against the
 * declared specs, backward through replayed tapes (checked by finite
 * differences), NaN losses, and arena reuse across iterations. */
#include <libconfig.h>
#include <math.h>
#include <string.h>
#include "config/params.h"
#include "model/model.h"
#include "plugin/registry.h"
#include "train/optimizer.h"
#include "wbtest.h"

/* The core library is linked statically with --wrap for the allocation
 * functions (tests/CMakeLists.txt), so every allocation the core makes is
 * counted here. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
static long g_allocs;
void *__wrap_malloc(size_t n) { g_allocs++; return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { g_allocs++; return __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { g_allocs++; return __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t align, size_t n) { g_allocs++; return __real_aligned_alloc(align, n); }

static wb_registry *g_reg;
static config_t g_cfg;

static bool load_plugins(void) {
    g_reg = wb_registry_new();
    const char *files[] = {WB_PLUGIN_BUILD_DIR "/wb_backbone_tiny_cnn.so", WB_PLUGIN_BUILD_DIR "/wb_head_center_head.so",
                           WB_FIXTURE_DIR "/runtime/fixture_create_fails.so",
                           WB_FIXTURE_DIR "/runtime/fixture_bad_forward.so"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (wb_registry_load_file(g_reg, files[i], "test") != WB_OK) {
            fprintf(stderr, "cannot load %s: %s\n", files[i], wb_registry_error(g_reg));
            return false;
        }
    }
    return true;
}

/* A model section given in full (no schema defaults involved). */
static const wb_params *model_params(const char *backbone) {
    char text[1024];
    snprintf(text, sizeof text,
             "model = { backbone = %s; head = { type = \"center_head\"; num_classes = 2; feat_channels = 16;"
             " center_radius = 1.5; prior_prob = 0.01; score_thr = 0.05; nms_iou = 0.5; nms_pre = 100;"
             " max_per_img = 10; }; };", backbone);
    config_init(&g_cfg);
    ck_assert_msg(config_read_string(&g_cfg, text) == CONFIG_TRUE, "config: %s", config_error_text(&g_cfg));
    return wb_params_of(config_lookup(&g_cfg, "model"));
}

static const char *k_tiny = "{ type = \"tiny_cnn\"; widths = [8, 16]; frozen_bn = false; }";

static wb_session *new_session(void) {
    wb_session *s = wb_session_create(NULL, 7);
    s->find_module = wb_registry_find_module;
    s->find_user = g_reg;
    return s;
}

/* Two 64x64 images with two and one boxes. */
static const float k_boxes[3][4] = {{4, 6, 30, 40}, {34, 30, 60, 58}, {10, 10, 40, 30}};
static const int k_labels[3] = {0, 1, 1};
static wb_gt_image g_gt[2];
static wb_batch_truth g_truth;

static void make_truth(void) {
    for (int i = 0; i < 2; i++)
        g_gt[i] = (wb_gt_image){sizeof(wb_gt_image), i == 0 ? 2 : 1, &k_boxes[i == 0 ? 0 : 2][0],
                                &k_labels[i == 0 ? 0 : 2], NULL, 64, 64, 64, 64, 1.0f, 1.0f, i, 0.0f, 0.0f};
    g_truth = (wb_batch_truth){sizeof g_truth, 2, 64, 64, g_gt};
}

static wb_tensor *images(wb_session *s, uint64_t seed) {
    wb_context c;
    wb_context_init(&c, s, "data", false);
    int64_t shape[4] = {2, 3, 64, 64};
    wb_tensor *t = wb_ctx_tensor_uninit(&c, 4, shape);
    uint64_t rng = seed;
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = wb_rng_uniform(&rng) * 2.0f - 1.0f;
    return t;
}

/* forward + loss (+ backward); the total loss, or NAN with err set. Makes
 * no Check assertion itself: Check allocates when it records one. */
static double try_loss(wb_model *m, bool backward, char *err, size_t n_err) {
    wb_tensor *x = images(m->s, 3);
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n = 0;
    if (wb_model_forward(m, x, true, err, n_err) != WB_OK || wb_model_loss(m, &g_truth, terms, &n, err, n_err) != WB_OK ||
        (backward && wb_model_backward(m, terms, n, err, n_err) != WB_OK))
        return NAN;
    double total = 0;
    for (int i = 0; i < n; i++) total += terms[i].value->data[0];
    return total;
}

static double run_loss(wb_model *m, bool backward) {
    char err[1024] = "";
    double total = try_loss(m, backward, err, sizeof err);
    ck_assert_msg(!isnan(total), "%s", err);
    return total;
}

START_TEST(test_backward_matches_finite_differences) {
    wb_session *s = new_session();
    wb_model *m = NULL;
    char err[1024];
    ck_assert_msg(wb_model_build(s, model_params(k_tiny), &m, err, sizeof err) == WB_OK, "%s", err);
    run_loss(m, true);
    /* Parameters in the head and at the very start of the backbone: the
     * gradient crosses both module tapes. */
    const char *names[] = {"head.cls_out.weight", "head.reg_conv.weight", "backbone.stage0.conv0.weight",
                           "backbone.stage1.bn1.weight"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        wb_tensor *p = wb_session_find(s, names[k])->tensor;
        ck_assert_msg(p->grad_valid, "no gradient reached %s", names[k]);
        float analytic[6];
        memcpy(analytic, p->grad, sizeof analytic);
        for (int i = 0; i < 6; i++) {
            /* Step 1e-2 in float32 over a loss of ~1: truncation error
             * ~1e-5, rounding ~1e-5; tolerance 2e-3 abs + 3% rel. */
            const float eps = 1e-2f;
            float keep = p->data[i];
            wb_model_end_iteration(m);
            wb_session_reset_compute(s);
            p->data[i] = keep + eps;
            double up = run_loss(m, false);
            wb_model_end_iteration(m);
            wb_session_reset_compute(s);
            p->data[i] = keep - eps;
            double down = run_loss(m, false);
            p->data[i] = keep;
            double numeric = (up - down) / (2.0 * eps);
            ck_assert_msg(fabs(numeric - analytic[i]) <= 2e-3 + 3e-2 * fabs(numeric),
                          "%s[%d]: analytic %.6g vs finite difference %.6g", names[k], i, analytic[i], numeric);
        }
    }
    wb_model_destroy(m);
    wb_session_destroy(s);
    config_destroy(&g_cfg);
}
END_TEST

START_TEST(test_second_iteration_allocates_nothing) {
    wb_session *s = new_session();
    wb_model *m = NULL;
    char err[1024];
    ck_assert_msg(wb_model_build(s, model_params(k_tiny), &m, err, sizeof err) == WB_OK, "%s", err);
    wb_optim_config oc = {.type = WB_OPTIM_SGD, .lr = 0.01f, .momentum = 0.9f, .weight_decay = 1e-4f};
    wb_optimizer *opt = wb_optimizer_create(s, &oc);
    uint64_t compute_allocs[4], weight_allocs[4];
    long allocs[4];
    double losses[4];
    for (int it = 0; it < 4; it++) {
        long before = g_allocs;
        losses[it] = try_loss(m, true, err, sizeof err);
        wb_optimizer_step(opt, 0.01f);
        wb_session_zero_grad(s);
        wb_model_end_iteration(m);
        wb_session_reset_compute(s);
        allocs[it] = g_allocs - before;
        compute_allocs[it] = s->compute.system_allocs;
        weight_allocs[it] = s->weights.system_allocs;
    }
    /* After the first reset the compute arena is one block of the peak size. */
    ck_assert_uint_eq(compute_allocs[1], compute_allocs[2]);
    ck_assert_uint_eq(compute_allocs[2], compute_allocs[3]);
    ck_assert_uint_eq(weight_allocs[1], weight_allocs[3]);
    /* Nor does anything else in the core: no malloc at all after iteration 1. */
    ck_assert_msg(allocs[2] == 0 && allocs[3] == 0, "the core allocated %ld and %ld times in iterations 3 and 4",
                  allocs[2], allocs[3]);
    for (int it = 0; it < 4; it++) ck_assert_msg(isfinite(losses[it]), "iteration %d: %s", it + 1, err);
    wb_optimizer_destroy(opt);
    wb_model_destroy(m);
    wb_session_destroy(s);
    config_destroy(&g_cfg);
}
END_TEST

START_TEST(test_create_failure_names_module_and_message) {
    wb_session *s = new_session();
    wb_model *m = NULL;
    char err[1024];
    ck_assert_int_eq(wb_model_build(s, model_params("{ type = \"create_fails\"; }"), &m, err, sizeof err),
                     WB_ERR_INVALID);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err, "backbone 'backbone' (type create_fails): create failed: create_fails: this fixture "
                              "always fails in create()") != NULL, "message was: %s", err);
    wb_session_destroy(s);
    config_destroy(&g_cfg);
}
END_TEST

static void expect_bad_forward(const char *mode, const char *returned) {
    wb_session *s = new_session();
    wb_model *m = NULL;
    char err[1024], backbone[128];
    snprintf(backbone, sizeof backbone, "{ type = \"bad_forward\"; mode = \"%s\"; }", mode);
    ck_assert_msg(wb_model_build(s, model_params(backbone), &m, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(wb_model_forward(m, images(s, 1), true, err, sizeof err), WB_ERR_INVALID);
    char want[256];
    snprintf(want, sizeof want, "backbone 'backbone' (type bad_forward) declared output 0 'c3' with 8 channels at "
             "stride 8, but forward returned %s for an input of 64x64", returned);
    ck_assert_msg(strstr(err, want) != NULL, "message was: %s", err);
    wb_model_destroy(m);
    wb_session_destroy(s);
    config_destroy(&g_cfg);
}

START_TEST(test_forward_breaking_its_declared_shapes_is_reported) {
    expect_bad_forward("channels", "[2, 4, 8, 8]");
    expect_bad_forward("spatial", "[2, 8, 16, 16]");
    expect_bad_forward("missing", "NULL");
}
END_TEST

/* A spec that cannot be right is blamed on the module declaring it, before
 * the head reads it (it used to say "center_head takes one feature map with a stride"). */
START_TEST(test_zero_stride_is_blamed_on_the_backbone) {
    wb_session *s = new_session();
    wb_model *m = NULL;
    char err[1024];
    ck_assert_int_eq(wb_model_build(s, model_params("{ type = \"bad_forward\"; mode = \"zero_stride\"; }"), &m, err,
                                    sizeof err),
                     WB_ERR_INVALID);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(err, "backbone 'backbone' (type bad_forward) declares output 0 'c3' with 8 channels at stride 0; "
                          "channels must be >= 1 and stride >= 1: its outputs are feature maps (check its parameters; "
                          "if they are sensible, the plugin's output_specs is wrong)");
    wb_session_destroy(s);
    config_destroy(&g_cfg);
}
END_TEST

START_TEST(test_nan_loss_names_term_module_and_iteration) {
    wb_session *s = new_session();
    wb_model *m = NULL;
    char err[1024];
    ck_assert_msg(wb_model_build(s, model_params(k_tiny), &m, err, sizeof err) == WB_OK, "%s", err);
    wb_session_find(s, "head.cls_out.bias")->tensor->data[0] = NAN;
    m->iteration = 41;
    ck_assert_msg(wb_model_forward(m, images(s, 1), true, err, sizeof err) == WB_OK, "%s", err);
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n = 0;
    ck_assert_int_eq(wb_model_loss(m, &g_truth, terms, &n, err, sizeof err), WB_ERR_NUMERIC);
    ck_assert_str_eq(err, "loss term 'loss_cls' of head 'head' (type center_head) is NaN at iteration 41");
    wb_model_destroy(m);
    wb_session_destroy(s);
    config_destroy(&g_cfg);
}
END_TEST

int main(void) {
    if (!load_plugins()) return 1;
    make_truth();
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_backward_matches_finite_differences);
    tcase_add_test(tc, test_second_iteration_allocates_nothing);
    tcase_add_test(tc, test_create_failure_names_module_and_message);
    tcase_add_test(tc, test_forward_breaking_its_declared_shapes_is_reported);
    tcase_add_test(tc, test_zero_stride_is_blamed_on_the_backbone);
    tcase_add_test(tc, test_nan_loss_names_term_module_and_iteration);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
