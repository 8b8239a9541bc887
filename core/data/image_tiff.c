/* TIFF through libtiff's RGBA interface (any photometric interpretation,
 * compression, strips or tiles, bit depth) into 8-bit RGB, reading the
 * first directory. Messages go to this decode's buffer, not to stderr
 * (libtiff 4.5's per-handle handlers), and single allocations are bounded
 * so a hostile header cannot ask libtiff for gigabytes.
 * The raster is read in stored order (requested orientation = the file's),
 * so the Orientation tag is applied once, by wb_image_apply_orientation, as
 * PIL's exif_transpose does. libtiff premultiplies unassociated alpha in
 * this interface; the alpha itself is dropped. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "image_codecs.h"
#include "image_limits.h"

typedef struct tiff_source {
    const uint8_t *bytes;
    size_t n, pos;
    char *err;
    size_t err_size;
    int failed;
} tiff_source;

static tmsize_t read_proc(thandle_t h, void *buf, tmsize_t size) {
    tiff_source *s = h;
    size_t left = s->n - s->pos, want = size < 0 ? 0 : (size_t)size;
    size_t got = want < left ? want : left;
    memcpy(buf, s->bytes + s->pos, got);
    s->pos += got;
    return (tmsize_t)got;
}

static tmsize_t write_proc(thandle_t h, void *buf, tmsize_t size) {
    (void)h, (void)buf, (void)size;
    return -1;
}

static toff_t seek_proc(thandle_t h, toff_t off, int whence) {
    tiff_source *s = h;
    uint64_t base = whence == SEEK_CUR ? s->pos : whence == SEEK_END ? s->n : 0;
    uint64_t to = base + off; /* libtiff passes toff_t (unsigned) for negative SEEK_CUR too: wraps as intended */
    if (to > s->n) return (toff_t)-1;
    s->pos = (size_t)to;
    return to;
}

static int close_proc(thandle_t h) {
    (void)h;
    return 0;
}

static toff_t size_proc(thandle_t h) { return ((tiff_source *)h)->n; }

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif;
    tiff_source *s = user;
    if (!s->failed) { /* the first message is the cause */
        int k = snprintf(s->err, s->err_size, "corrupt TIFF (libtiff: %s: ", module ? module : "tiff");
        if (k > 0 && (size_t)k < s->err_size) {
            vsnprintf(s->err + k, s->err_size - (size_t)k, fmt, ap);
            size_t len = strlen(s->err);
            if (len + 1 < s->err_size) s->err[len] = ')', s->err[len + 1] = '\0';
        }
    }
    s->failed = 1;
    return 1;
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif, (void)user, (void)module, (void)fmt, (void)ap; /* unknown tags and the like: not our concern */
    return 1;
}

wb_status wb_decode_tiff(const uint8_t *bytes, size_t n, const wb_image_header *h, wb_image *img, char *err,
                         size_t err_size) {
    tiff_source src = {bytes, n, 0, err, err_size, 0};
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts) {
        snprintf(err, err_size, "out of memory opening a TIFF");
        return WB_ERR_NOMEM;
    }
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, &src);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, &src);
    /* the raster itself is ours; libtiff's own buffers (strips, tiles) stay far below this */
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)WB_IMAGE_MAX_PIXELS);
    TIFF *tif = TIFFClientOpenExt("image", "rm", &src, read_proc, write_proc, seek_proc, close_proc, size_proc,
                                  NULL, NULL, opts);
    TIFFOpenOptionsFree(opts);
    if (!tif) {
        if (!src.failed) snprintf(err, err_size, "corrupt TIFF (libtiff cannot open it)");
        return WB_ERR_IO;
    }
    uint32_t w = 0, hh = 0;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &hh);
    wb_status st = WB_OK;
    uint32_t *raster = NULL;
    if ((int64_t)w != h->stored_width || (int64_t)hh != h->stored_height) {
        snprintf(err, err_size, "corrupt TIFF: its header says %dx%d, libtiff reads %ux%u", h->stored_width,
                 h->stored_height, w, hh);
        st = WB_ERR_IO;
    } else if (!(raster = malloc((size_t)w * hh * sizeof *raster)) || !(img->rgb = malloc((size_t)w * hh * 3))) {
        snprintf(err, err_size, "out of memory for a %ux%u image", w, hh);
        st = WB_ERR_NOMEM;
    } else if (!TIFFReadRGBAImageOriented(tif, w, hh, raster, h->orientation, 1) || src.failed) {
        if (!src.failed) snprintf(err, err_size, "corrupt TIFF (libtiff cannot read the image data)");
        st = WB_ERR_IO;
    } else {
        for (size_t i = 0; i < (size_t)w * hh; i++) {
            img->rgb[3 * i] = (uint8_t)TIFFGetR(raster[i]);
            img->rgb[3 * i + 1] = (uint8_t)TIFFGetG(raster[i]);
            img->rgb[3 * i + 2] = (uint8_t)TIFFGetB(raster[i]);
        }
        img->width = (int)w;
        img->height = (int)hh;
    }
    free(raster);
    if (st != WB_OK) {
        free(img->rgb);
        img->rgb = NULL;
    }
    TIFFClose(tif);
    return st;
}
