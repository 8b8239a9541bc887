"""PIL decodes of the shared images and of generated image variants.

Reference: Image.open(p) -> ImageOps.exif_transpose -> convert('RGB'), which is
what the C decoder (core/data/image*.c) must reproduce. Variants the shared data
lacks (progressive, CMYK, EXIF orientations, PNG colour types) are written from
a crop of a shared image into WB_PARITY_DIR/image_fixtures/.
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "datasets"))
BCCD = os.path.join(SHARED, "bccd", "JPEGImages")
COCO = os.path.join(SHARED, "coco128", "images", "train2017")


def pil_rgb(path, draft=None):
    im = Image.open(path)
    if draft:
        im.draft("RGB", draft)
    im = ImageOps.exif_transpose(im)
    return np.asarray(im.convert("RGB"), dtype=np.float32)


def write_png16_rgb(path, rgb8):
    """PIL cannot write 16-bit RGB PNGs: a minimal writer (high byte = value, low byte = noise)."""
    h, w, _ = rgb8.shape
    rng = np.random.default_rng(0)
    v16 = rgb8.astype(np.uint16) * 256 + rng.integers(0, 256, rgb8.shape, dtype=np.uint16)
    raw = b"".join(b"\0" + v16[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))


def make_variants(out_dir):
    """Returns [(case name, file)] of generated files."""
    os.makedirs(out_dir, exist_ok=True)
    base = Image.open(os.path.join(BCCD, "BloodImage_00000.jpg")).convert("RGB").crop((200, 150, 296, 214))
    files = []

    def add(name, im, ext, **kw):
        p = os.path.join(out_dir, name + "." + ext)
        im.save(p, **kw)
        files.append((name, p))

    add("progressive", base, "jpg", quality=90, progressive=True)
    add("cmyk", base.convert("CMYK"), "jpg", quality=92)
    add("gray_jpeg", base.convert("L"), "jpg", quality=90)
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        add(f"exif_orientation_{o}", base, "jpg", quality=90, exif=exif)
    add("png_rgb", base, "png")
    add("png_rgba", base.convert("RGBA"), "png")
    pal = base.convert("P", palette=Image.ADAPTIVE, colors=64)
    add("png_palette_trns", pal, "png", transparency=3)
    add("png_gray", base.convert("L"), "png")
    add("png_gray_alpha", base.convert("LA"), "png")
    add("png_1bit", base.convert("1"), "png")
    p16 = os.path.join(out_dir, "png_rgb16.png")
    write_png16_rgb(p16, np.asarray(base))
    files.append(("png_rgb16", p16))
    return files


def generate(save):
    if not os.path.isdir(SHARED):
        print(f"gen_image: {SHARED} not found; image parity cases not written (test_image will fail)")
        return
    fixture_dir = os.path.join(os.environ["WB_PARITY_DIR"], "image_fixtures")
    cases = [
        ("bccd_420", os.path.join(BCCD, "BloodImage_00000.jpg"), 0, None),
        ("coco_444", os.path.join(COCO, "000000000009.jpg"), 0, None),
        ("coco_gray", os.path.join(COCO, "000000000086.jpg"), 0, None),
        # DCT-domain scaling: PIL's draft() picks the same libjpeg scale_denom.
        ("bccd_420_quarter", os.path.join(BCCD, "BloodImage_00000.jpg"), 120, (160, 120)),
        ("coco_444_half", os.path.join(COCO, "000000000009.jpg"), 240, (320, 240)),
    ]
    cases += [(name, path, 0, None) for name, path in make_variants(fixture_dir)]
    for name, path, min_side, draft in cases:
        rgb = pil_rgb(path, draft)
        save("image_" + name, {"rgb": rgb}, path=path, min_side=min_side)

    # Every shared image: per-channel means and sizes, for a whole-corpus check.
    files = [os.path.join(BCCD, f) for f in sorted(os.listdir(BCCD))]
    files += [os.path.join(COCO, f) for f in sorted(os.listdir(COCO))]
    means, sizes = [], []
    for p in files:
        rgb = pil_rgb(p)
        means.append(rgb.reshape(-1, 3).astype(np.float64).mean(axis=0))
        sizes.append([rgb.shape[1], rgb.shape[0]])
    save("image_corpus", {"means": np.array(means), "sizes": np.array(sizes)}, count=len(files),
         files=";".join(files))
