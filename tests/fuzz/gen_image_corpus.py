#!/usr/bin/python3
"""Writes the seed corpus of fuzz_image (tests/fuzz/corpus/image/): tiny JPEGs
(EXIF orientations, progressive, grayscale, CMYK) and PNGs (RGB, RGBA,
palette with transparency, 16-bit gray), BMPs, TIFFs and WebPs. Each file is one mode
byte (see fuzz_image.c) followed by the image."""
import io
import os

from PIL import Image

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "image")
os.makedirs(out, exist_ok=True)


def base(w=12, h=8):
    im = Image.new("RGB", (w, h))
    im.putdata([((x * 20) % 256, (y * 30) % 256, (x * y * 7) % 256) for y in range(h) for x in range(w)])
    return im


def save(name, im, fmt, mode=0, **kw):
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([mode]) + buf.getvalue())


for o in (1, 3, 6, 8):
    exif = Image.Exif()
    exif[0x0112] = o
    save(f"jpeg_exif_{o}", base(), "JPEG", mode=o, quality=50, exif=exif)
save("jpeg_progressive", base(16, 16), "JPEG", mode=5, quality=40, progressive=True)
save("jpeg_gray", base().convert("L"), "JPEG", mode=2, quality=40)
save("jpeg_cmyk", base(8, 8).convert("CMYK"), "JPEG", mode=9, quality=40)
save("png_rgb", base(), "PNG", mode=6)
save("png_rgba", base().convert("RGBA"), "PNG", mode=1)
save("png_palette_trns", base().convert("P", palette=Image.ADAPTIVE, colors=8), "PNG", mode=2, transparency=1)
save("png_gray16", base().convert("L").convert("I").point(lambda v: v * 257).convert("I;16"), "PNG", mode=7)
# BMP (stb_image), TIFF (libtiff), WebP (libwebp)
save("bmp_rgb", base(), "BMP", mode=0)
save("bmp_palette", base().convert("P", palette=Image.ADAPTIVE, colors=8), "BMP", mode=8)
save("tiff_lzw", base(), "TIFF", mode=0, compression="tiff_lzw")
save("tiff_gray_packbits", base().convert("L"), "TIFF", mode=8, compression="packbits")
save("webp_lossy", base(16, 16), "WEBP", mode=0, quality=40)
save("webp_lossless_alpha", base().convert("RGBA"), "WEBP", mode=8, lossless=True)
