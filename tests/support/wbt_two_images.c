/* See wbt_two_images.h. */
#include "wbt_two_images.h"

#include "runtime/context.h"

static const float k_boxes[3][4] = {{4, 6, 30, 40}, {34, 30, 60, 58}, {10, 10, 40, 30}};
static const int k_labels[3] = {0, 1, 1};
static wb_gt_image g_gt[2];
static wb_batch_truth g_truth;
static float g_images[WBT_TWO_IMAGES_NUMEL];
static int g_ready;

static void fill(void) {
    if (g_ready) return;
    for (int i = 0; i < 2; i++)
        g_gt[i] = (wb_gt_image){sizeof(wb_gt_image), i == 0 ? 2 : 1, &k_boxes[i == 0 ? 0 : 2][0],
                                &k_labels[i == 0 ? 0 : 2], NULL, 64, 64, 64, 64, 1.0f, 1.0f, i, 0.0f, 0.0f};
    g_truth = (wb_batch_truth){sizeof g_truth, 2, 64, 64, g_gt};
    uint64_t rng = 3;
    for (size_t i = 0; i < WBT_TWO_IMAGES_NUMEL; i++) g_images[i] = wb_rng_uniform(&rng) * 2 - 1;
    g_ready = 1;
}

const float *wbt_two_images(void) {
    fill();
    return g_images;
}

const wb_batch_truth *wbt_two_images_truth(void) {
    fill();
    return &g_truth;
}

static int64_t one_batch(void *user) { (void)user; return 1; }
static wb_status next_batch(void *user, int64_t epoch, wb_batch_view *out, char *err, size_t n) {
    (void)user, (void)epoch, (void)err, (void)n;
    fill();
    *out = (wb_batch_view){g_images, {2, 3, 64, 64}, &g_truth, 0.0};
    return WB_OK;
}
static void release_batch(void *user) { (void)user; }

wb_batch_source wbt_two_images_source(void) { return (wb_batch_source){NULL, one_batch, next_batch, release_batch}; }
