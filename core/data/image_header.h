/* Header-only facts about an encoded image: format, stored size, JPEG colour
 * layout, EXIF orientation. Plain libc and no other core dependency on
 * purpose: dataset plugins (yolo) compile this file in to learn real image
 * sizes without decoding and without linking core symbols. */
#ifndef WB_DATA_IMAGE_HEADER_H
#define WB_DATA_IMAGE_HEADER_H

#include <stddef.h>
#include <stdint.h>

typedef enum wb_image_format {
    WB_IMG_UNKNOWN = 0,
    WB_IMG_JPEG,
    WB_IMG_PNG,
    WB_IMG_BMP,
    WB_IMG_TIFF,
    WB_IMG_WEBP
} wb_image_format;

typedef enum wb_header_result {
    WB_HDR_OK = 0,
    WB_HDR_NEED_MORE,  /* the bytes end before the size is known: read more */
    WB_HDR_BAD         /* not a JPEG/PNG/BMP/TIFF/WebP, or a malformed header; see message */
} wb_header_result;

typedef struct wb_image_header {
    wb_image_format format;
    int stored_width, stored_height; /* as encoded, before EXIF orientation */
    int width, height;               /* as displayed: swapped for orientations 5..8 */
    int orientation;                 /* EXIF 1..8 (1 when absent or invalid) */
    int components;                  /* JPEG: 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK */
    int adobe_inverted;              /* JPEG: Adobe APP14 present (CMYK stored inverted) */
} wb_image_header;

/* Parses the first n bytes of an encoded image. On WB_HDR_BAD, why says what
 * is wrong (a static string). */
wb_header_result wb_image_header_parse(const uint8_t *bytes, size_t n, wb_image_header *out,
                                       const char **why);

/* Reads as much of the file as the header needs (growing reads, never the
 * whole pixel data) and parses it. Returns WB_HDR_BAD with why set when the
 * file cannot be opened, is empty, truncated before the size, or not an image. */
wb_header_result wb_image_header_read_file(const char *path, wb_image_header *out, const char **why);

#endif
