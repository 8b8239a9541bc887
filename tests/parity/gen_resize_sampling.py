"""TensorFlow 1's resize_bilinear (align_corners=False, half_pixel_centers=False), as TF.js's CPU backend
computes it, written out in numpy (no TensorFlow here; torch has no such mode): output pixel (i, j) samples
the input at (i * in_h / out_h, j * in_w / out_w), lerping between floor and min(floor + 1, in - 1) first along
x in the top and bottom rows, then along y, in double precision. Half-pixel sampling is torch's
interpolate(align_corners=False), which test_transforms already checks.

  resize_tf_legacy_<oh>x<ow>: src [H, W, 3] (0..255 integers, so the 8-bit kernel reads the same input), dst
  [oh, ow, 3].
"""
import numpy as np

H, W = 13, 17
SIZES = ((5, 7), (32, 40), (13, 51), (29, 6))


def tf_legacy_resize(src, oh, ow):
    h, w, _ = src.shape
    ys = np.arange(oh) * (h / oh)
    xs = np.arange(ow) * (w / ow)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    fy = (ys - y0)[:, None, None]
    fx = (xs - x0)[None, :, None]
    s = src.astype(np.float64)
    top = s[y0][:, x0] + (s[y0][:, x1] - s[y0][:, x0]) * fx
    bot = s[y1][:, x0] + (s[y1][:, x1] - s[y1][:, x0]) * fx
    return top + (bot - top) * fy


def generate(save):
    rng = np.random.default_rng(7)
    src = rng.integers(0, 256, (H, W, 3)).astype(np.float64)
    for oh, ow in SIZES:
        save(f"resize_tf_legacy_{oh}x{ow}", {"src": src, "dst": tf_legacy_resize(src, oh, ow)})
