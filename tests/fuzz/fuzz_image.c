/* Image decoding as the loader does it: header sniffing, EXIF orientation,
 * JPEG (libjpeg-turbo) and PNG (libpng), full size and shrunk on decode,
 * BMP (stb_image), TIFF (libtiff) and WebP (libwebp).
 * The first byte picks the options; the rest is the file, decoded from
 * memory or, through a memfd, from a path (the regular-file check and the
 * whole-file read). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "data/image.h"
#include "data/image_header.h"

/* Small enough that a decompression bomb costs milliseconds, not the fuzzer's memory. */
#define FUZZ_MAX_PIXELS (1 << 22)

static void decode_via_path(const uint8_t *data, size_t size, const wb_decode_opts *o) {
    int fd = memfd_create("fuzz_image", MFD_CLOEXEC);
    if (fd < 0) return;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64], err[1024];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        wb_image img;
        if (wb_image_decode_file(path, o, &img, err, sizeof err) == WB_OK) wb_image_free(&img);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++, size--;
    static const int sides[4] = {0, 1, 7, 64};
    wb_decode_opts o = {.min_side = sides[mode & 3], .shrink_above = (mode & 4) ? 0 : 64,
                        .max_pixels = FUZZ_MAX_PIXELS, .limit_key = "data.max_image_pixels"};
    wb_image_header h;
    const char *why;
    (void)wb_image_header_parse(data, size, &h, &why);
    if (mode & 8) {
        decode_via_path(data, size, &o);
        return 0;
    }
    wb_image img;
    char err[1024];
    if (wb_image_decode_memory(data, size, &o, &img, err, sizeof err) == WB_OK) {
        /* what the loader relies on */
        if (img.width <= 0 || img.height <= 0 || !img.rgb || img.orig_width <= 0 || img.orig_height <= 0)
            __builtin_trap();
        wb_image_free(&img);
    }
    return 0;
}
