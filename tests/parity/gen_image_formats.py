"""BMP, TIFF and WebP files written by Pillow, and Pillow's decodes of them
(Image.open -> ImageOps.exif_transpose -> convert('RGB'), the reference of
core/data/image*.c), into WB_PARITY_DIR/image_formats/. No shared data needed."""
import os

import cv2
import numpy as np
from PIL import Image, ImageOps


def picture(h, w, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([np.sin(x / 6.0) * 90, np.cos(y / 5.0) * 70, (x * 3 + y) % 256 - 128.0], -1) + 128
    return (base + rng.integers(-25, 26, (h, w, 3))).clip(0, 255).astype(np.uint8)


def generate(save):
    out_dir = os.path.join(os.environ["WB_PARITY_DIR"], "image_formats")
    os.makedirs(out_dir, exist_ok=True)
    rgb = Image.fromarray(picture(37, 53, 11))
    alpha = Image.fromarray(picture(37, 53, 12)[:, :, 0])
    rgba = rgb.copy()
    rgba.putalpha(alpha)
    variants = {
        "bmp_rgb": (rgb, "bmp", {}),
        "bmp_rgba": (rgba, "bmp", {}),
        "bmp_palette": (rgb.quantize(64), "bmp", {}),
        "bmp_gray": (rgb.convert("L"), "bmp", {}),
        "bmp_1bit": (rgb.convert("1"), "bmp", {}),
        "tiff_raw": (rgb, "tif", {}),
        "tiff_lzw": (rgb, "tif", {"compression": "tiff_lzw"}),
        "tiff_deflate": (rgb, "tif", {"compression": "tiff_adobe_deflate"}),
        "tiff_gray": (rgb.convert("L"), "tif", {"compression": "packbits"}),
        "tiff_palette": (rgb.quantize(64), "tif", {}),
        "tiff_orientation_6": (rgb, "tif", {"tiffinfo": {274: 6}}),
        "webp_lossy": (rgb, "webp", {"quality": 80}),
        "webp_lossless": (rgb, "webp", {"lossless": True}),
        "webp_alpha": (rgba, "webp", {"lossless": True}),
        "webp_lossy_alpha": (rgba, "webp", {"quality": 70}),
    }
    for name, (im, ext, kw) in variants.items():
        path = os.path.join(out_dir, name + "." + ext)
        im.save(path, **kw)
        ref = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"), dtype=np.float32)
        if name == "tiff_orientation_6":
            # Pillow 9.4's exif_transpose leaves a TIFF as stored; the TIFF spec and OpenCV's imread
            # (what YOLOv5 trains on) turn it upright
            ref = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB).astype(np.float32)
        save("image_format_" + name, {"rgb": ref}, path=path)
