/* Decoded images larger than this are refused (decompression bombs, corrupt
 * headers): 2^28 pixels is 768 MiB of RGB, far above any detection image. */
#ifndef WB_DATA_IMAGE_LIMITS_H
#define WB_DATA_IMAGE_LIMITS_H
#include <stdint.h>
#define WB_IMAGE_MAX_PIXELS ((int64_t)1 << 28)
/* The loader decodes images above this (4096 x 4096) smaller when its
 * pipeline shrinks them anyway (wb_decode_opts); below it, decoding is exact. */
#define WB_IMAGE_SHRINK_ABOVE ((int64_t)1 << 24)
#endif
