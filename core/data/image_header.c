#include "image_header.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned tiff16(const uint8_t *p, int little) { return little ? (unsigned)p[1] << 8 | p[0] : be16(p); }
static uint32_t tiff32(const uint8_t *p, int little) {
    return little ? (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0] : be32(p);
}

/* EXIF orientation from an APP1 payload ("Exif\0\0" + TIFF). Anything
 * malformed means "no orientation" (1): a broken EXIF block must not make an
 * otherwise good image unreadable, as with PIL. */
static int exif_orientation(const uint8_t *p, size_t n) {
    if (n < 14 || memcmp(p, "Exif\0\0", 6) != 0) return 1;
    const uint8_t *tiff = p + 6;
    size_t tn = n - 6;
    int little;
    if (tiff[0] == 'I' && tiff[1] == 'I') little = 1;
    else if (tiff[0] == 'M' && tiff[1] == 'M') little = 0;
    else return 1;
    if (tiff16(tiff + 2, little) != 42) return 1;
    uint32_t ifd = tiff32(tiff + 4, little);
    if (ifd > tn || tn - ifd < 2) return 1;
    unsigned count = tiff16(tiff + ifd, little);
    for (unsigned i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e + 12 > tn) return 1;
        if (tiff16(tiff + e, little) != 0x0112) continue;
        /* Type SHORT (3), count 1: the value sits in the first two bytes of the field. */
        if (tiff16(tiff + e + 2, little) != 3 || tiff32(tiff + e + 4, little) != 1) return 1;
        unsigned v = tiff16(tiff + e + 8, little);
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

static int is_sof(unsigned m) {
    /* SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

static wb_header_result parse_jpeg(const uint8_t *b, size_t n, wb_image_header *h, const char **why) {
    size_t pos = 2;
    h->orientation = 1;
    for (;;) {
        while (pos < n && b[pos] == 0xFF && pos + 1 < n && b[pos + 1] == 0xFF) pos++; /* fill bytes */
        if (pos + 4 > n) return WB_HDR_NEED_MORE;
        if (b[pos] != 0xFF) {
            *why = "JPEG marker expected before the frame header (corrupt header)";
            return WB_HDR_BAD;
        }
        unsigned marker = b[pos + 1];
        if (marker < 0xC0 && marker != 0x01) {
            *why = "invalid JPEG marker before the frame header (corrupt header)";
            return WB_HDR_BAD;
        }
        if (marker == 0xD9 || marker == 0xDA) {
            *why = "JPEG has no frame header before its scan data (corrupt header)";
            return WB_HDR_BAD;
        }
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { /* standalone markers */
            pos += 2;
            continue;
        }
        size_t len = be16(b + pos + 2);
        if (len < 2) {
            *why = "JPEG segment with an invalid length (corrupt header)";
            return WB_HDR_BAD;
        }
        if (pos + 2 + len > n) return WB_HDR_NEED_MORE;
        const uint8_t *seg = b + pos + 4;
        size_t seg_n = len - 2;
        if (marker == 0xE1) {
            int o = exif_orientation(seg, seg_n);
            if (o != 1) h->orientation = o;
        } else if (marker == 0xEE && seg_n >= 5 && memcmp(seg, "Adobe", 5) == 0) {
            h->adobe_inverted = 1;
        } else if (is_sof(marker)) {
            if (seg_n < 6) {
                *why = "JPEG frame header too short (corrupt header)";
                return WB_HDR_BAD;
            }
            h->stored_height = (int)be16(seg + 1);
            h->stored_width = (int)be16(seg + 3);
            h->components = seg[5];
            if (h->stored_width == 0 || h->stored_height == 0) {
                *why = "JPEG frame header gives a zero width or height";
                return WB_HDR_BAD;
            }
            /* EXIF and Adobe segments come before the frame header in
             * practice (APPn precede SOF), so the parse can stop here. */
            return WB_HDR_OK;
        }
        pos += 2 + len;
    }
}

static wb_header_result parse_png(const uint8_t *b, size_t n, wb_image_header *h, const char **why) {
    if (n < 8 + 8 + 13) return WB_HDR_NEED_MORE;
    if (be32(b + 8) != 13 || memcmp(b + 12, "IHDR", 4) != 0) {
        *why = "PNG does not start with an IHDR chunk (corrupt header)";
        return WB_HDR_BAD;
    }
    uint32_t w = be32(b + 16), hh = be32(b + 20);
    if (w == 0 || hh == 0 || w > 0x7fffffffu || hh > 0x7fffffffu) {
        *why = "PNG header gives an invalid width or height";
        return WB_HDR_BAD;
    }
    h->stored_width = (int)w;
    h->stored_height = (int)hh;
    h->orientation = 1; /* PNG eXIf chunks are rare and PIL ignores them in convert() */
    return WB_HDR_OK;
}

static unsigned le16(const uint8_t *p) { return (unsigned)p[1] << 8 | p[0]; }
static uint32_t le32(const uint8_t *p) { return tiff32(p, 1); }

/* BMP: the file header, then the DIB header whose size names its version
 * (12: OS/2 core with 16-bit sizes; 40..124: Windows, signed 32-bit sizes,
 * a negative height meaning rows stored top-down). */
static wb_header_result parse_bmp(const uint8_t *b, size_t n, wb_image_header *h, const char **why) {
    if (n < 26) return WB_HDR_NEED_MORE;
    uint32_t dib = le32(b + 14);
    int64_t w, hh;
    if (dib == 12) {
        w = le16(b + 18), hh = le16(b + 20);
    } else if (dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124) {
        w = (int32_t)le32(b + 18), hh = (int32_t)le32(b + 22);
        if (hh < 0) hh = -hh;
    } else {
        *why = "BMP with an unknown DIB header size (corrupt header)";
        return WB_HDR_BAD;
    }
    if (w <= 0 || hh <= 0 || w > 0x7fffffff || hh > 0x7fffffff) {
        *why = "BMP header gives an invalid width or height";
        return WB_HDR_BAD;
    }
    h->stored_width = (int)w, h->stored_height = (int)hh, h->orientation = 1;
    return WB_HDR_OK;
}

/* TIFF: the first directory's ImageWidth (256), ImageLength (257) and
 * Orientation (274) entries, each a SHORT or LONG held in the entry. */
static wb_header_result parse_tiff(const uint8_t *b, size_t n, wb_image_header *h, const char **why) {
    int little = b[0] == 'I';
    uint32_t ifd = tiff32(b + 4, little);
    if (ifd < 8) {
        *why = "TIFF header points its first directory into the header (corrupt header)";
        return WB_HDR_BAD;
    }
    if ((size_t)ifd + 2 > n) return WB_HDR_NEED_MORE;
    unsigned count = tiff16(b + ifd, little);
    if ((size_t)ifd + 2 + (size_t)count * 12 > n) return WB_HDR_NEED_MORE;
    int64_t w = 0, hh = 0;
    h->orientation = 1;
    for (unsigned i = 0; i < count; i++) {
        const uint8_t *e = b + ifd + 2 + (size_t)i * 12;
        unsigned tag = tiff16(e, little), type = tiff16(e + 2, little);
        if (type != 3 && type != 4) continue; /* SHORT, LONG */
        uint32_t v = type == 3 ? tiff16(e + 8, little) : tiff32(e + 8, little);
        if (tag == 256) w = v;
        else if (tag == 257) hh = v;
        else if (tag == 274 && v >= 1 && v <= 8) h->orientation = (int)v;
    }
    if (w <= 0 || hh <= 0 || w > 0x7fffffff || hh > 0x7fffffff) {
        *why = "TIFF's first directory gives no valid width and height (corrupt header)";
        return WB_HDR_BAD;
    }
    h->stored_width = (int)w, h->stored_height = (int)hh;
    return WB_HDR_OK;
}

/* WebP: RIFF, then the first chunk: VP8 (lossy key frame), VP8L (lossless)
 * or VP8X (extended: the canvas size). */
static wb_header_result parse_webp(const uint8_t *b, size_t n, wb_image_header *h, const char **why) {
    if (n < 30) return WB_HDR_NEED_MORE;
    uint32_t w, hh;
    if (memcmp(b + 12, "VP8 ", 4) == 0) {
        if (b[23] != 0x9d || b[24] != 0x01 || b[25] != 0x2a) {
            *why = "WebP VP8 chunk without a key frame start code (corrupt header)";
            return WB_HDR_BAD;
        }
        w = le16(b + 26) & 0x3fff, hh = le16(b + 28) & 0x3fff;
    } else if (memcmp(b + 12, "VP8L", 4) == 0) {
        if (b[20] != 0x2f) {
            *why = "WebP VP8L chunk without its signature byte (corrupt header)";
            return WB_HDR_BAD;
        }
        uint32_t bits = le32(b + 21);
        w = (bits & 0x3fff) + 1, hh = (bits >> 14 & 0x3fff) + 1;
    } else if (memcmp(b + 12, "VP8X", 4) == 0) {
        w = (b[24] | (uint32_t)b[25] << 8 | (uint32_t)b[26] << 16) + 1;
        hh = (b[27] | (uint32_t)b[28] << 8 | (uint32_t)b[29] << 16) + 1;
    } else {
        *why = "WebP whose first chunk is not VP8, VP8L or VP8X (corrupt header)";
        return WB_HDR_BAD;
    }
    if (w == 0 || hh == 0) {
        *why = "WebP header gives a zero width or height";
        return WB_HDR_BAD;
    }
    h->stored_width = (int)w, h->stored_height = (int)hh, h->orientation = 1;
    return WB_HDR_OK;
}

/* What a file that is not a JPEG or PNG is, when it is a common mix-up. */
#define MAGIC(text) text, sizeof(text) - 1
#define CONVERT " image, not JPEG, PNG, BMP, TIFF or WebP; convert it to JPEG or PNG"
static const char *foreign_format(const uint8_t *b, size_t n) {
    static const char heic[] = "a HEIC image, not JPEG, PNG, BMP, TIFF or WebP; convert it, e.g. `heif-convert IMG.heic "
                               "IMG.jpg`";
    static const char html[] = "an HTML page, not an image (a failed download?)";
    static const struct {
        size_t at;
        const char *magic;
        size_t len;
        const char *why;
    } known[] = {
        {0, MAGIC("version https://git-lfs"), "a git-lfs pointer, not the image; fetch the images with `git lfs pull`"},
        {4, MAGIC("ftypheic"), heic},
        {4, MAGIC("ftypheix"), heic},
        {4, MAGIC("ftypmif1"), heic},
        {4, MAGIC("ftypavif"), "an AVIF" CONVERT},
        {0, MAGIC("GIF8"), "a GIF" CONVERT},
        {0, MAGIC("II+\0"), "a BigTIFF" CONVERT},
        {0, MAGIC("MM\0+"), "a BigTIFF" CONVERT},
        {0, MAGIC("<!DOCTYPE"), html},
        {0, MAGIC("<html"), html},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].at + known[i].len <= n && memcmp(b + known[i].at, known[i].magic, known[i].len) == 0)
            return known[i].why;
    return "not a JPEG, PNG, BMP, TIFF or WebP file (unknown signature)";
}

wb_header_result wb_image_header_parse(const uint8_t *bytes, size_t n, wb_image_header *out,
                                       const char **why) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    memset(out, 0, sizeof *out);
    *why = NULL;
    wb_header_result r;
    if (n >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
        out->format = WB_IMG_JPEG;
        r = parse_jpeg(bytes, n, out, why);
    } else if (n >= 8 && memcmp(bytes, png_sig, 8) == 0) {
        out->format = WB_IMG_PNG;
        r = parse_png(bytes, n, out, why);
    } else if (n >= 2 && bytes[0] == 'B' && bytes[1] == 'M') {
        out->format = WB_IMG_BMP;
        r = parse_bmp(bytes, n, out, why);
    } else if (n >= 8 && (memcmp(bytes, "II*\0", 4) == 0 || memcmp(bytes, "MM\0*", 4) == 0)) {
        out->format = WB_IMG_TIFF;
        r = parse_tiff(bytes, n, out, why);
    } else if (n < 8 || (n < 16 && memcmp(bytes, "RIFF", 4) == 0)) {
        return WB_HDR_NEED_MORE;
    } else if (memcmp(bytes, "RIFF", 4) == 0 && memcmp(bytes + 8, "WEBP", 4) == 0) {
        out->format = WB_IMG_WEBP;
        r = parse_webp(bytes, n, out, why);
    } else {
        *why = foreign_format(bytes, n);
        return WB_HDR_BAD;
    }
    if (r == WB_HDR_OK) {
        int swap = out->orientation >= 5;
        out->width = swap ? out->stored_height : out->stored_width;
        out->height = swap ? out->stored_width : out->stored_height;
    }
    return r;
}

wb_header_result wb_image_header_read_file(const char *path, wb_image_header *out, const char **why) {
    /* Only regular files: O_NONBLOCK so that opening a FIFO cannot wait for a
     * writer (this file is compiled into plugins: no core helper here). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *why = errno == ENOENT ? "file not found" : "file cannot be opened";
        return WB_HDR_BAD;
    }
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    FILE *f = regular ? fdopen(fd, "rb") : NULL;
    if (!f) {
        *why = !regular ? "not a regular file (a directory, FIFO or device)" : "file cannot be opened";
        close(fd);
        return WB_HDR_BAD;
    }
    /* Headers are small; EXIF blocks can reach 64 KiB, and other APPn
     * segments may stack up, so grow up to 4 MiB before giving up. */
    size_t cap = 16384, n = 0;
    uint8_t *buf = NULL;
    wb_header_result r = WB_HDR_NEED_MORE;
    while (r == WB_HDR_NEED_MORE && cap <= ((size_t)4 << 20)) {
        uint8_t *grown = realloc(buf, cap);
        if (!grown) {
            *why = "out of memory reading the image header";
            r = WB_HDR_BAD;
            break;
        }
        buf = grown;
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        r = wb_image_header_parse(buf, n, out, why);
        if (r == WB_HDR_NEED_MORE && n < cap) { /* end of file */
            *why = n == 0 ? "file is empty (0 bytes)" : "file ends inside the image header (truncated)";
            r = WB_HDR_BAD;
        }
        cap *= 2;
    }
    if (r == WB_HDR_NEED_MORE) {
        *why = "no image size found in the first 4 MiB (corrupt header)";
        r = WB_HDR_BAD;
    }
    free(buf);
    fclose(f);
    return r;
}
