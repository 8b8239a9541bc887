"""References for the in-tree transform plugins (plugins/transforms/): what
albumentations computes for Blur, MedianBlur, ToGray and CLAHE, through the
OpenCV calls it makes (Debian's python3-opencv), and Pillow's filters where
they mean the same. Images are uint8 HWC RGB, saved as float32."""
import cv2
import numpy as np
from PIL import Image, ImageFilter, ImageOps


def test_image(h, w, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([np.sin(x / 5.0) * 90, np.cos(y / 4.0) * 70, (x + y) * 2.0], -1) + 128
    return (base + rng.integers(-40, 41, (h, w, 3))).clip(0, 255).astype(np.uint8)


def generate(save):
    img = test_image(37, 53, 5)
    out = {"img": img}
    for k in (3, 5, 7):
        out[f"blur_k{k}"] = cv2.blur(img, (k, k))  # albumentations Blur
        out[f"median_k{k}"] = cv2.medianBlur(img, k)  # albumentations MedianBlur
        out[f"pil_median_k{k}"] = np.asarray(Image.fromarray(img).filter(ImageFilter.MedianFilter(k)))
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)  # albumentations ToGray
    out["gray_cv"] = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    out["gray_pil"] = np.asarray(ImageOps.grayscale(Image.fromarray(img)))
    for name, plane in {"odd": img[:, :, 0], "even": test_image(64, 48, 6)[:, :, 1]}.items():
        out[f"plane_{name}"] = plane
        for clip in (1.0, 2.5, 4.0):
            out[f"clahe_{name}_c{clip}"] = cv2.createCLAHE(clipLimit=clip, tileGridSize=(8, 8)).apply(plane)
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    out["lab"] = lab.copy()
    out["rgb_of_lab"] = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    # albumentations CLAHE on RGB: the L plane of L*a*b*, clip limit 2
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[:, :, 0])
    out["clahe_rgb_c2"] = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    save("transform_plugins", {k: v.astype(np.float32) for k, v in out.items()})
