"""random_affine parity against YOLOv5's own random_perspective (utils/augmentations.py of the yolov5
package, 7.0.x, from the venv scripts/setup.sh makes; see tools/export_yolov5.py).

The draws are fixed: random.uniform inside YOLOv5's module is replaced by a function returning the
values of a case in YOLOv5's order (P[2,0], P[2,1], angle, scale, shear x, shear y, T[0,2], T[1,2]).
Boxes (and which survive box_candidates) are YOLOv5's output. Pixels: YOLOv5 warps pixel indices
with M, the workbench pixel centres (so its pixels stay on its boxes); the reference image is
cv2.warpPerspective / warpAffine with M conjugated by the half-pixel shift, the same warp in the
index convention. The image is smooth so cv2's 1/32-pixel positions stay within a grey level, except
where the bilinear footprint straddles the image's edge: the step to the border colour turns cv2's
position rounding into up to 2 levels there ("edge" marks those pixels). "exact" is the same warp in
float64 (bilinear, border 114 outside), the reference for every pixel.

Cases augment_yolov5_<name>: "image" [h, w, 3] (uint8 values), "boxes_in" [n, 4], "labels_in" [n],
"draws" [8] (the workbench's wb_affine_draw: translate is T / size - 0.5), "params" [degrees, translate,
scale, shear, perspective, out_w, out_h], "warped" [oh, ow, 3] (cv2), "exact" [oh, ow, 3], "edge" [oh, ow], "boxes" [k, 4], "labels" [k].
Without the package only augment_yolov5_unavailable (attribute `reason`) is written."""
import glob
import importlib.util
import math
import os

import numpy as np

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_yolov5.py")
_spec = importlib.util.spec_from_file_location("export_yolov5", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

# name: (w, h, out_w, out_h, draws in YOLOv5's order, perspective on)
CASES = {
    "perspective": (96, 80, 96, 80, [4e-4, -3e-4, 7.0, 1.1, 3.0, -2.0, 0.55, 0.47], True),
    "mosaic_crop": (128, 112, 64, 56, [-6e-4, 5e-4, -12.0, 0.8, -4.0, 1.5, 0.45, 0.58], True),
    "affine": (96, 80, 96, 80, [0.0, 0.0, 25.0, 1.3, 5.0, 0.0, 0.52, 0.5], False),
}


def smooth_image(w, h, seed):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rng = np.random.default_rng(seed)
    chans = []
    for c in range(3):
        fx, fy, ph = rng.uniform(4, 9), rng.uniform(4, 9), rng.uniform(0, 6)
        chans.append(127 + 60 * np.sin(x / fx + ph) * np.cos(y / fy) + 30 * np.cos((x + y) / 11 + c))
    return np.clip(np.round(np.stack(chans, -1)), 0, 255).astype(np.uint8)


def exact_warp(img, Mi, ow, oh, border=114.0):
    """Bilinear warp in float64: output pixel (x, y) samples the input at Mi^-1 (x, y)."""
    h, w = img.shape[:2]
    y, x = np.mgrid[0:oh, 0:ow].astype(np.float64)
    src = np.linalg.inv(Mi) @ np.stack([x.ravel(), y.ravel(), np.ones(x.size)])
    sx, sy = (src[0] / src[2]).reshape(oh, ow), (src[1] / src[2]).reshape(oh, ow)
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    inside = np.zeros((oh, ow), dtype=int)

    def at(xx, yy):
        ok = (xx >= 0) & (yy >= 0) & (xx < w) & (yy < h)
        nonlocal inside
        inside = inside + ok
        v = img[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)].astype(np.float64)
        return np.where(ok[..., None], v, border)

    top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
    bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
    edge = (inside > 0) & (inside < 4)
    return top * (1 - fy) + bottom * fy, edge


def run_case(aug, cv2, name, w, h, ow, oh, draws, persp):
    img = smooth_image(w, h, len(name))
    boxes = np.array([[10, 12, 40, 50], [50, 8, 90, 30], [30, 40, 70, 75], [2, 2, 5, 4],  # tiny: dropped
                      [w - 20, h - 25, w - 1, h - 2], [0, 30, 3, 79]], dtype=np.float64)
    labels = np.arange(len(boxes), dtype=np.float64)
    targets = np.concatenate([labels[:, None], boxes], 1)
    queue = list(draws)
    saved = aug.random.uniform
    aug.random.uniform = lambda lo, hi: queue.pop(0)
    try:
        degrees, translate, scale, shear, perspective = 30.0, 0.1, 0.5, 10.0, 1e-3 if persp else 0.0
        border = (-(h - oh) // 2, -(w - ow) // 2)  # YOLOv5's mosaic border: output = input + 2 * border
        _, out = aug.random_perspective(img.copy(), targets.copy(), (), degrees, translate, scale, shear,
                                        perspective, border)
    finally:
        aug.random.uniform = saved
    assert not queue, "YOLOv5 drew a different number of values"
    # The same matrix, rebuilt from YOLOv5's formula, for the pixel reference.
    C = np.eye(3); C[0, 2], C[1, 2] = -w / 2, -h / 2
    P = np.eye(3); P[2, 0], P[2, 1] = draws[0], draws[1]
    R = np.eye(3); R[:2] = cv2.getRotationMatrix2D(angle=draws[2], center=(0, 0), scale=draws[3])
    S = np.eye(3); S[0, 1] = math.tan(draws[4] * math.pi / 180); S[1, 0] = math.tan(draws[5] * math.pi / 180)
    T = np.eye(3); T[0, 2], T[1, 2] = draws[6] * ow, draws[7] * oh
    M = T @ S @ R @ P @ C
    half = np.eye(3); half[:2, 2] = 0.5
    Mi = np.linalg.inv(half) @ M @ half  # pixel-centre warp in index coordinates
    if persp:
        warped = cv2.warpPerspective(img, Mi, dsize=(ow, oh), borderValue=(114, 114, 114))
    else:
        warped = cv2.warpAffine(img, Mi[:2], dsize=(ow, oh), borderValue=(114, 114, 114))
    exact, edge = exact_warp(img, Mi, ow, oh)
    ours = [draws[0], draws[1], draws[2], draws[3], draws[4], draws[5], draws[6] - 0.5, draws[7] - 0.5]
    return {"image": img, "boxes_in": boxes, "labels_in": labels, "draws": np.array(ours),
            "params": np.array([degrees, translate, scale, shear, perspective, ow, oh]),
            "warped": warped, "exact": exact, "edge": edge, "boxes": out[:, 1:5].reshape(-1, 4), "labels": out[:, 0]}


def generate(save):
    out_dir = os.environ["WB_PARITY_DIR"]
    yolov5, why = export.import_yolov5()
    if yolov5 is None:
        for path in glob.glob(os.path.join(out_dir, "augment_yolov5_*.safetensors")):
            os.remove(path)
        save("augment_yolov5_unavailable", {}, reason=why)
        print(f"gen_augment_yolov5: not written: {why}")
        return
    marker = os.path.join(out_dir, "augment_yolov5_unavailable.safetensors")
    if os.path.exists(marker):
        os.remove(marker)
    import cv2
    import yolov5.utils.augmentations as aug
    for name, (w, h, ow, oh, draws, persp) in CASES.items():
        save("augment_yolov5_" + name, run_case(aug, cv2, name, w, h, ow, oh, draws, persp))
