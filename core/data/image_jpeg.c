/* JPEG through the TurboJPEG API of libjpeg-turbo 2.1 (tjDecompress2). With
 * default flags (accurate integer IDCT, fancy upsampling) the output equals
 * PIL's, which links the same libjpeg-turbo. */
#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>

#include "image_codecs.h"
#include "image_limits.h"

/* Smallest 1/2^k scale (k <= 3) whose shorter side still covers min_side. */
static tjscalingfactor pick_scale(int w, int h, int min_side) {
    tjscalingfactor best = {1, 1};
    if (min_side <= 0) return best;
    int n = 0;
    tjscalingfactor *all = tjGetScalingFactors(&n);
    for (int i = 0; all && i < n; i++) {
        tjscalingfactor f = all[i];
        int pow2 = f.num == 1 && (f.denom == 2 || f.denom == 4 || f.denom == 8);
        int sw = TJSCALED(w, f), sh = TJSCALED(h, f);
        if (pow2 && f.denom > best.denom && (sw < sh ? sw : sh) >= min_side) best = f;
    }
    return best;
}

/* PIL's CMYK -> RGB: each channel (255 - K) - C * (255 - K) / 255, rounded. */
static uint8_t cmyk_channel(int c, int k) {
    int nk = 255 - k;
    int t = c * nk + 128;
    int v = nk - (((t >> 8) + t) >> 8);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t pixels, int inverted) {
    for (size_t i = 0; i < pixels; i++) {
        int px[4];
        for (int ch = 0; ch < 4; ch++) px[ch] = inverted ? 255 - cmyk[4 * i + ch] : cmyk[4 * i + ch];
        for (int ch = 0; ch < 3; ch++) rgb[3 * i + ch] = cmyk_channel(px[ch], px[3]);
    }
}

wb_status wb_decode_jpeg(const uint8_t *bytes, size_t n, const wb_image_header *h, int min_side_hint,
                         wb_image *img, char *err, size_t err_size) {
    tjhandle tj = tjInitDecompress();
    if (!tj) {
        snprintf(err, err_size, "cannot create a JPEG decompressor: %s", tjGetErrorStr2(NULL));
        return WB_ERR_NOMEM;
    }
    wb_status st = WB_OK;
    uint8_t *cmyk = NULL;
    int w = 0, hh = 0, subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(tj, bytes, (unsigned long)n, &w, &hh, &subsamp, &colorspace) != 0) {
        snprintf(err, err_size, "corrupt JPEG header (libjpeg-turbo: %s)", tjGetErrorStr2(tj));
        st = WB_ERR_IO;
        goto done;
    }
    if ((int64_t)w * hh > WB_IMAGE_MAX_PIXELS) {
        snprintf(err, err_size, "JPEG is %dx%d, above the %lld-pixel limit", w, hh,
                 (long long)WB_IMAGE_MAX_PIXELS);
        st = WB_ERR_UNSUPPORTED;
        goto done;
    }
    /* Orientation swaps sides but not which side is shorter: scale on stored sides. */
    tjscalingfactor f = pick_scale(w, hh, min_side_hint);
    int sw = TJSCALED(w, f), sh = TJSCALED(hh, f);
    int is_cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
    img->rgb = malloc((size_t)sw * sh * 3);
    cmyk = is_cmyk ? malloc((size_t)sw * sh * 4) : NULL;
    if (!img->rgb || (is_cmyk && !cmyk)) {
        snprintf(err, err_size, "out of memory decoding a %dx%d JPEG", sw, sh);
        st = WB_ERR_NOMEM;
        goto done;
    }
    /* Any warning (e.g. "Premature end of JPEG file") fails the decode: see image.h.
     * LIMITSCANS: a progressive JPEG of thousands of scans takes minutes. */
    if (tjDecompress2(tj, bytes, (unsigned long)n, is_cmyk ? cmyk : img->rgb, sw, 0, sh,
                      is_cmyk ? TJPF_CMYK : TJPF_RGB, TJFLAG_LIMITSCANS) != 0) {
        int warning = tjGetErrorCode(tj) == TJERR_WARNING;
        snprintf(err, err_size, "%s JPEG data (libjpeg-turbo: %s)", warning ? "corrupt or truncated" : "undecodable",
                 tjGetErrorStr2(tj));
        st = WB_ERR_IO;
        goto done;
    }
    if (is_cmyk) cmyk_to_rgb(cmyk, img->rgb, (size_t)sw * sh, h->adobe_inverted);
    img->width = sw;
    img->height = sh;
done:
    free(cmyk);
    if (st != WB_OK) {
        free(img->rgb);
        img->rgb = NULL;
    }
    tjDestroy(tj);
    return st;
}
