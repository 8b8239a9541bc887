/* The core's working copy of one training sample while the transform
 * pipeline runs: an HWC RGB image plus its boxes, and everything needed to
 * map boxes back to the original image. Owned by one loader worker and
 * reused from sample to sample, so buffers grow once and stay.
 *
 * Pixels stay 8-bit while geometric steps and yolo_hsv run (they move,
 * interpolate or recolour values, rounding results to the nearest level:
 * a quarter of the memory traffic of floats); the first step that needs
 * fractional values (photometric distortion, normalize, mixup, a fill value
 * no byte holds) widens them to float once, and collation widens whatever
 * is left. */
#ifndef WB_CORE_DATA_SAMPLE_H
#define WB_CORE_DATA_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wb_data_sample {
    bool is_float;           /* which of img8 / img holds the pixels */
    uint8_t *img8;           /* h * w * 3, HWC, RGB */
    float *img;              /* h * w * 3, HWC, RGB, 0..255 until normalized */
    int h, w;                /* size of img (after any padding) */
    int valid_h, valid_w;    /* content size, without right/bottom padding */
    int ori_h, ori_w;        /* size of the decoded original image */
    /* input pixel = original pixel * scale + offset (offset from letterbox) */
    float scale_x, scale_y;
    float offset_x, offset_y;
    bool flip_h, flip_v;     /* applied after scale/offset, over the full w / h */
    int tile_w, tile_h;      /* set by mosaic: one tile's size, random_affine's default output */
    int num_boxes;
    float *boxes;            /* num_boxes * 4, x1,y1,x2,y2 in input pixels */
    int *labels;
    uint8_t *ignore;         /* crowd / difficult regions, transformed like boxes */
    int64_t index;           /* position in the dataset */
    int64_t image_id;
    /* RNG state shared by every sample of the batch (set by the loader from
     * seed, epoch and batch number): for choices the whole batch must share,
     * like the input size of multi-scale training. */
    uint64_t batch_rng;
    /* rect batches: the letterbox [w, h] of the sample's batch, which a
     * letterbox step takes instead of its own size; 0 x 0: none */
    int batch_w, batch_h;

    /* private: spare image buffers for out-of-place transforms, capacities */
    uint8_t *spare8;
    float *spare;
    size_t img8_cap, spare8_cap, img_cap, spare_cap; /* in values */
    int box_cap;
} wb_data_sample;

/* Starts a sample from h x w 8-bit RGB pixels (copied, kept 8-bit) decoded
 * from an ori_h x ori_w original (smaller when the decoder scaled in the DCT
 * domain), and boxes in original pixels (copied and scaled to the pixels).
 * ignore may be NULL. false when out of memory. */
bool wb_data_sample_load(wb_data_sample *s, const uint8_t *rgb, int h, int w, int ori_h, int ori_w,
                         const float *boxes, const int *labels, const uint8_t *ignore, int num_boxes);
/* Widens 8-bit pixels to float (nothing when already float). false when out
 * of memory. */
bool wb_data_sample_to_float(wb_data_sample *s);
/* Widens to float unless `value` is a byte (an integer in 0..255), so that
 * it can fill borders of the image as it is. false when out of memory. */
bool wb_data_sample_allow_fill(wb_data_sample *s, float value);
/* Sets n pixels (3n values) of a buffer of the sample's current type to
 * `value` (a byte when the sample is 8-bit: see wb_data_sample_allow_fill). */
void wb_data_sample_fill(const wb_data_sample *s, void *pixels, size_t n, float value);
/* Bytes per value of the current pixels: 1 or 4. */
size_t wb_data_sample_value_size(const wb_data_sample *s);
/* The current pixels (img8 or img). */
void *wb_data_sample_pixels(const wb_data_sample *s);
/* An h x w x 3 buffer of the current type for the next image (the spare
 * one); after writing it, wb_data_sample_swap makes it the sample's image.
 * NULL when out of memory. */
void *wb_data_sample_target(wb_data_sample *s, int h, int w);
void wb_data_sample_swap(wb_data_sample *s, int h, int w);
/* The same for a step whose output is float whatever its input: the float
 * spare, and the swap that makes the sample float. */
float *wb_data_sample_float_target(wb_data_sample *s, int h, int w);
void wb_data_sample_swap_float(wb_data_sample *s, int h, int w);
/* Room for n boxes, keeping the current ones. false when out of memory. */
bool wb_data_sample_reserve_boxes(wb_data_sample *s, int n);
/* Clips boxes to the image and drops those left without area (or NaN). */
void wb_data_sample_clip_boxes(wb_data_sample *s);
void wb_data_sample_free(wb_data_sample *s);

#endif
