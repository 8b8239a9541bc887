/* WebP through libwebp's simple decoding API (lossy, lossless, extended
 * still images) into 8-bit RGB; alpha dropped, not composited, as PIL's
 * convert('RGB'). Animations are refused: which frame is "the" image is
 * not a choice to make silently. */
#include <stdio.h>
#include <stdlib.h>
#include <webp/decode.h>

#include "image_codecs.h"

static const char *status_text(VP8StatusCode st) {
    switch (st) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "file ends before the image data does (truncated)";
    default: return "decoding failed";
    }
}

wb_status wb_decode_webp(const uint8_t *bytes, size_t n, const wb_image_header *h, wb_image *img, char *err,
                         size_t err_size) {
    WebPBitstreamFeatures f;
    VP8StatusCode st = WebPGetFeatures(bytes, n, &f);
    if (st != VP8_STATUS_OK) {
        snprintf(err, err_size, "corrupt WebP (libwebp: %s)", status_text(st));
        return WB_ERR_IO;
    }
    if (f.has_animation) {
        snprintf(err, err_size, "animated WebP: a training image needs one frame; export the frame you mean as PNG");
        return WB_ERR_UNSUPPORTED;
    }
    if (f.width != h->stored_width || f.height != h->stored_height) {
        snprintf(err, err_size, "corrupt WebP: its header says %dx%d, its bitstream %dx%d", h->stored_width,
                 h->stored_height, f.width, f.height);
        return WB_ERR_IO;
    }
    size_t stride = (size_t)f.width * 3, size = stride * (size_t)f.height;
    img->rgb = malloc(size);
    if (!img->rgb) {
        snprintf(err, err_size, "out of memory for a %dx%d image", f.width, f.height);
        return WB_ERR_NOMEM;
    }
    if (!WebPDecodeRGBInto(bytes, n, img->rgb, size, (int)stride)) {
        free(img->rgb);
        img->rgb = NULL;
        snprintf(err, err_size, "corrupt WebP (libwebp cannot decode the image data: damaged or truncated)");
        return WB_ERR_IO;
    }
    img->width = f.width;
    img->height = f.height;
    return WB_OK;
}
