/* BMP through stb_image (Debian's libstb): 1/4/8-bit palettes, 16/24/32-bit,
 * bottom-up and top-down rows, into 8-bit RGB with alpha dropped as PIL's
 * convert('RGB'). stb_image decodes many formats; only files the header
 * parser recognised as BMP come here. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stb_image.h>

#include "image_codecs.h"

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* stb_image reads zeros past the end of the data: a cut file would decode
 * with black rows. Uncompressed rows (BI_RGB, BI_BITFIELDS, OS/2) have a
 * known size, so a file shorter than its pixel array is refused here. */
static bool bmp_truncated(const uint8_t *b, size_t n, const wb_image_header *h) {
    if (n < 30) return true;
    uint32_t dib = le32(b + 14), offset = le32(b + 10);
    unsigned bpp = dib == 12 ? (unsigned)(b[24] | b[25] << 8) : (unsigned)(b[28] | b[29] << 8);
    uint32_t compression = dib >= 40 && n >= 34 ? le32(b + 30) : 0;
    if (compression != 0 && compression != 3) return false; /* RLE and the like: stb_image decides */
    uint64_t row = ((uint64_t)h->stored_width * bpp + 31) / 32 * 4;
    return (uint64_t)offset + row * (uint64_t)h->stored_height > n;
}

wb_status wb_decode_bmp(const uint8_t *bytes, size_t n, const wb_image_header *h, wb_image *img, char *err,
                        size_t err_size) {
    if (bmp_truncated(bytes, n, h)) {
        snprintf(err, err_size, "corrupt BMP: the file ends before its %dx%d pixels do (truncated)", h->stored_width,
                 h->stored_height);
        return WB_ERR_IO;
    }
    int w = 0, hh = 0, comp = 0;
    /* n stays far below INT_MAX: files are refused above 1 GiB */
    uint8_t *rgb = stbi_load_from_memory(bytes, (int)n, &w, &hh, &comp, 3);
    if (!rgb) {
        const char *why = stbi_failure_reason();
        snprintf(err, err_size, "corrupt or unsupported BMP (stb_image: %s)", why ? why : "decoding failed");
        return WB_ERR_IO;
    }
    if (w != h->stored_width || hh != h->stored_height) {
        stbi_image_free(rgb);
        snprintf(err, err_size, "corrupt BMP: its header says %dx%d, the decoder got %dx%d", h->stored_width,
                 h->stored_height, w, hh);
        return WB_ERR_IO;
    }
    /* our buffers are malloc'ed and freed with free(); stb's allocator may differ */
    img->rgb = malloc((size_t)w * hh * 3);
    if (!img->rgb) {
        stbi_image_free(rgb);
        snprintf(err, err_size, "out of memory for a %dx%d image", w, hh);
        return WB_ERR_NOMEM;
    }
    memcpy(img->rgb, rgb, (size_t)w * hh * 3);
    stbi_image_free(rgb);
    img->width = w;
    img->height = hh;
    return WB_OK;
}
