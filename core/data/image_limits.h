/* Decoded images larger than this are refused (decompression bombs, corrupt
 * headers): 2^28 pixels is 768 MiB of RGB, far above any detection image. */
#ifndef WB_DATA_IMAGE_LIMITS_H
#define WB_DATA_IMAGE_LIMITS_H
#define WB_IMAGE_MAX_PIXELS ((int64_t)1 << 28)
#endif
