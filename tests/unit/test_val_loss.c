/* Validation losses (core/app/val_loss.c, YOLOv5's val.py): the head's
 * loss() on the predictions of an eval-mode forward equals the loss of a
 * training forward whose BN layers use the same running statistics
 * (norm_eval / frozen_bn), for yolov5n, center_head and retina_head (with
 * its decoded-box custom op); nothing is taped by the eval forward or the
 * loss; the pool's live bytes are back to where they were after each batch;
 * and the reported value of each term is the mean over the batches. The BN
 * running statistics are randomised so that batch statistics would give
 * other predictions. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app/experiment.h"
#include "app/val_loss.h"
#include "config/config.h"
#include "model/model.h"
#include "plugin/registry.h"
#include "wbtest.h"

#define REL_TOL 1e-6
#define N_BATCHES 2
#define BATCH 2
#define IMG_H 96
#define IMG_W 128

static wb_registry *g_reg;

static const char *const k_paths[] = {"model.backbone", "model.neck", "model.head"};
static const int k_kinds[] = {WB_KIND_BACKBONE, WB_KIND_NECK, WB_KIND_HEAD};

/* The models: BN layers that use their running statistics in training too. */
static const char *const k_models[] = {
    "model = {\n"
    "  backbone = { type = \"cspdarknet\"; deepen_factor = 0.33; widen_factor = 0.25; norm_eval = true; };\n"
    "  neck = { type = \"yolov5_pafpn\"; deepen_factor = 0.33; norm_eval = true; };\n"
    "  head = { type = \"yolov5_head\"; num_classes = 3; img_size = 128; };\n"
    "};\n",
    "model = {\n"
    "  backbone = { type = \"tiny_cnn\"; widths = [8, 16, 32]; frozen_bn = true; };\n"
    "  head = { type = \"center_head\"; num_classes = 3; feat_channels = 16; };\n"
    "};\n",
    "model = {\n"
    "  backbone = { type = \"tiny_cnn\"; widths = [8, 16, 32]; frozen_bn = true; };\n"
    "  head = { type = \"retina_head\"; num_classes = 3; feat_channels = 16; stacked_convs = 1; strides = [8];\n"
    "           reg_decoded_bbox = true; loss_bbox = { type = \"giou\"; }; };\n"
    "};\n",
};

static wb_config *model_config(const char *text) {
    char path[] = "/tmp/wb_val_loss_XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    wb_config *cfg = wb_config_new();
    wb_module_lookup lk = wb_registry_module_lookup(g_reg);
    ck_assert(wb_config_load(cfg, path) == 0);
    unlink(path);
    for (int i = 0; i < 3; i++)
        if (wb_config_params(cfg, k_paths[i])) wb_config_validate_module(cfg, k_paths[i], k_kinds[i], &lk);
    if (wb_config_error_count(cfg) > 0) wb_config_print_errors(cfg, stderr);
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    return cfg;
}

static float uniform(uint64_t *rng, float lo, float hi) { return lo + (hi - lo) * wb_rng_uniform(rng); }

/* Running statistics far from the batch's: eval-mode BN then differs from training-mode BN. */
static int randomise_running_stats(wb_session *s, uint64_t *rng) {
    int n = 0;
    for (int i = 0; i < s->n_params; i++) {
        const char *name = s->params[i].name;
        size_t len = strlen(name);
        bool mean = len > 12 && strcmp(name + len - 12, "running_mean") == 0;
        bool var = len > 11 && strcmp(name + len - 11, "running_var") == 0;
        if (!mean && !var) continue;
        wb_tensor *t = s->params[i].tensor;
        for (int64_t k = 0; k < t->numel; k++) t->data[k] = mean ? uniform(rng, -0.3f, 0.3f) : uniform(rng, 0.5f, 2.0f);
        n++;
    }
    return n;
}

/* A batch of two images with three and one boxes, drawn from rng. */
typedef struct batch {
    float images[BATCH * 3 * IMG_H * IMG_W];
    float boxes[BATCH][3 * 4];
    int labels[BATCH][3];
    uint8_t ignore[BATCH][3];
    wb_gt_image gt[BATCH];
    wb_batch_truth truth;
} batch;

static void make_batch(batch *b, uint64_t *rng) {
    for (size_t i = 0; i < sizeof b->images / sizeof b->images[0]; i++) b->images[i] = uniform(rng, 0.0f, 1.0f);
    for (int i = 0; i < BATCH; i++) {
        int n = i == 0 ? 3 : 1;
        for (int k = 0; k < n; k++) {
            float w = uniform(rng, 12, 60), h = uniform(rng, 12, 50);
            float x = uniform(rng, 0, IMG_W - w), y = uniform(rng, 0, IMG_H - h);
            float *o = b->boxes[i] + 4 * k;
            o[0] = x, o[1] = y, o[2] = x + w, o[3] = y + h;
            b->labels[i][k] = (int)(wb_rng_next(rng) % 3);
            b->ignore[i][k] = 0;
        }
        b->gt[i] = (wb_gt_image){sizeof(wb_gt_image), n, b->boxes[i], b->labels[i], b->ignore[i], IMG_H, IMG_W,
                                 IMG_H, IMG_W, 1.0f, 1.0f, i, 0.0f, 0.0f};
    }
    b->truth = (wb_batch_truth){sizeof b->truth, BATCH, IMG_H, IMG_W, b->gt};
}

static wb_tensor *upload(wb_model *m, const batch *b) {
    int64_t shape[4] = {BATCH, 3, IMG_H, IMG_W};
    wb_tensor *x = wb_ctx_tensor_uninit(&m->stage[0].ctx, 4, shape);
    ck_assert(x != NULL);
    memcpy(x->data, b->images, sizeof b->images);
    return x;
}

static void end_batch(wb_model *m) {
    wb_model_end_iteration(m);
    wb_session_reset_compute(m->s);
}

START_TEST(test_val_loss_equals_loss_with_running_statistics) {
    char err[1024];
    wb_config *cfg = model_config(k_models[_i]);
    wb_session *s = wb_session_create(NULL, 7);
    s->find_module = wb_registry_find_module;
    s->find_user = g_reg;
    wb_model *m = NULL;
    ck_assert_msg(wb_model_build(s, wb_config_params(cfg, "model"), &m, err, sizeof err) == WB_OK, "%s", err);
    uint64_t rng = 12345;
    ck_assert_int_gt(randomise_running_stats(s, &rng), 0);
    wb_module_slot *head = wb_model_head(m);

    static batch batches[N_BATCHES];
    double want[WB_MAX_LOSS_TERMS] = {0};
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n_terms = 0;
    wb_val_loss vl = {0};
    for (int bi = 0; bi < N_BATCHES; bi++) {
        make_batch(&batches[bi], &rng);
        /* The reference: a training forward (taped) and the head's loss. */
        ck_assert_msg(wb_model_forward(m, upload(m, &batches[bi]), true, err, sizeof err) == WB_OK, "%s", err);
        ck_assert_msg(wb_model_loss(m, &batches[bi].truth, terms, &n_terms, err, sizeof err) == WB_OK, "%s", err);
        ck_assert_int_gt(head->ctx.tape.count, 0); /* the reference is a real training forward */
        for (int k = 0; k < n_terms; k++) want[k] += terms[k].value->data[0] / N_BATCHES;
        end_batch(m);

        size_t live = s->tensors.in_use;
        ck_assert_msg(wb_model_forward(m, upload(m, &batches[bi]), false, err, sizeof err) == WB_OK, "%s", err);
        wb_val_loss_add(&vl, m, &batches[bi].truth);
        for (int st = 0; st < m->n_stages; st++)
            ck_assert_msg(m->stage[st].ctx.tape.count == 0, "%s taped %d nodes in validation", m->stage[st].ctx.path,
                          m->stage[st].ctx.tape.count);
        end_batch(m);
        ck_assert_msg(s->tensors.in_use == live, "validation left %zu bytes live (%zu before)", s->tensors.in_use,
                      live);
    }
    ck_assert_msg(wb_val_loss_ready(&vl), "%s: no validation loss", head->desc->type_name);
    ck_assert_int_eq(vl.batches, N_BATCHES);
    ck_assert_int_eq(vl.n_terms, n_terms);
    printf("%s, mean over %d batches of %d images %dx%d:", head->desc->type_name, N_BATCHES, BATCH, IMG_W, IMG_H);
    for (int k = 0; k < n_terms; k++) {
        double got = wb_val_loss_mean(&vl, k);
        printf(" %s %.6f (training forward %.6f)", vl.names[k], got, want[k]);
        ck_assert_str_eq(vl.names[k], terms[k].name);
        ck_assert_msg(want[k] > 0, "%s is 0: the batch tests nothing", vl.names[k]);
        ck_assert_msg(fabs(got - want[k]) <= REL_TOL * fabs(want[k]), "%s: %.9g, training forward %.9g", vl.names[k],
                      got, want[k]);
    }
    printf("\n");
    wb_model_destroy(m);
    wb_session_destroy(s);
    wb_config_free(cfg);
}
END_TEST

/* A head that refuses a batch (a label outside its classes) turns the
 * validation loss off for the rest of the evaluation, and its predict still runs. */
START_TEST(test_refused_loss_turns_val_loss_off) {
    char err[1024];
    wb_config *cfg = model_config(k_models[0]);
    wb_session *s = wb_session_create(NULL, 7);
    s->find_module = wb_registry_find_module;
    s->find_user = g_reg;
    wb_model *m = NULL;
    ck_assert_msg(wb_model_build(s, wb_config_params(cfg, "model"), &m, err, sizeof err) == WB_OK, "%s", err);
    uint64_t rng = 99;
    static batch b;
    make_batch(&b, &rng);
    b.labels[0][0] = 7; /* 3 classes */
    wb_val_loss vl = {0};
    ck_assert_msg(wb_model_forward(m, upload(m, &b), false, err, sizeof err) == WB_OK, "%s", err);
    wb_val_loss_add(&vl, m, &b.truth);
    ck_assert(vl.off && !wb_val_loss_ready(&vl));
    wb_detections dets[BATCH];
    ck_assert_msg(wb_model_predict(m, &b.truth, dets, err, sizeof err) == WB_OK, "%s", err);
    wb_model_release_detections(m, dets, BATCH);
    end_batch(m);
    wb_model_destroy(m);
    wb_session_destroy(s);
    wb_config_free(cfg);
}
END_TEST

int main(void) {
    g_reg = wb_registry_new();
    const char *files[] = {WB_PLUGIN_BUILD_DIR "/wb_backbone_cspdarknet.so", WB_PLUGIN_BUILD_DIR "/wb_neck_yolov5_pafpn.so",
                           WB_PLUGIN_BUILD_DIR "/wb_head_yolov5_head.so", WB_PLUGIN_BUILD_DIR "/wb_backbone_tiny_cnn.so",
                           WB_PLUGIN_BUILD_DIR "/wb_head_center_head.so", WB_PLUGIN_BUILD_DIR "/wb_head_retina_head.so",
                           WB_PLUGIN_BUILD_DIR "/wb_loss_basic.so"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (wb_registry_load_file(g_reg, files[i], "test") != WB_OK) {
            fprintf(stderr, "cannot load %s: %s\n", files[i], wb_registry_error(g_reg));
            return 1;
        }
    }
    Suite *s = suite_create("val_loss");
    TCase *tc = tcase_create("val_loss");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_val_loss_equals_loss_with_running_statistics, 0,
                        (int)(sizeof k_models / sizeof k_models[0]));
    tcase_add_test(tc, test_refused_loss_turns_val_loss_off);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
