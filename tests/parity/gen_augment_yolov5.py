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

mosaic9: YOLOv5's LoadImagesAndLabels.load_mosaic9 run on a stand-in dataset object (nine noise tiles of
assorted sizes, long side at most 64, with boxes), random.choices / shuffle / uniform replaced by a fixed
tile order and window offset, and random_perspective by the identity, so the result is the 2s x 2s window
of the canvas. Cases augment_yolov5_mosaic9_<name>: "tiles" (the nine images flattened, one after
another), "tile_sizes" [9, 2] (w, h), "tile_boxes" [9, 2, 4] and "tile_labels" [9, 2] (pixels), "order" [9]
(laying order as tile numbers; tile 0 is the sample), "offset" [xc, yc], "canvas" [2s, 2s, 3],
"boxes" [k, 4] and "labels" [k] (clipped to the window as YOLOv5 does, boxes left without area dropped as
the workbench drops them).

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


MOSAIC9 = {"in_order": ([0, 1, 2, 3, 4, 5, 6, 7, 8], 17, 40), "shuffled": ([4, 7, 0, 2, 8, 1, 3, 6, 5], 60, 3)}
TILE_SIZES = [(64, 48), (40, 64), (64, 64), (30, 50), (64, 20), (52, 60), (64, 36), (24, 64), (48, 48)]


def mosaic9_case(dataloaders, order, xc, yc, s=64):
    rng = np.random.default_rng(9)
    tiles = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for w, h in TILE_SIZES]
    boxes = np.array([[[2, 3, 0.6 * w, 0.5 * h], [0.3 * w, 0.4 * h, w - 1, h - 2]] for w, h in TILE_SIZES])
    labels = np.array([[t, t + 10] for t in range(9)], dtype=np.float64)

    class Stand:  # what load_mosaic9 reads of self
        img_size = s
        mosaic_border = [-s // 2, -s // 2]
        indices = list(range(9))
        hyp = {k: 0.0 for k in ("degrees", "translate", "scale", "shear", "perspective", "copy_paste")}
        segments = [[] for _ in range(9)]

        def __init__(self):
            self.labels = []
            for (w, h), b, lab in zip(TILE_SIZES, boxes, labels):  # normalised xywh, as YOLOv5 stores them
                xywh = np.stack([(b[:, 0] + b[:, 2]) / 2 / w, (b[:, 1] + b[:, 3]) / 2 / h,
                                 (b[:, 2] - b[:, 0]) / w, (b[:, 3] - b[:, 1]) / h], 1)
                self.labels.append(np.concatenate([lab[:, None], xywh], 1))

        def load_image(self, i):
            h, w = tiles[i].shape[:2]
            return tiles[i], (h, w), (h, w)

    uniform = [yc, xc]  # load_mosaic9 draws yc, then xc
    saved = (dataloaders.random.choices, dataloaders.random.shuffle, dataloaders.random.uniform,
             dataloaders.random_perspective)
    dataloaders.random.choices = lambda population, k: list(range(1, 9))
    dataloaders.random.shuffle = lambda x: x.__setitem__(slice(None), [x[i] for i in order])
    dataloaders.random.uniform = lambda lo, hi: uniform.pop(0)
    dataloaders.random_perspective = lambda im, targets, *args, **kwargs: (im, targets)
    try:
        canvas, out = dataloaders.LoadImagesAndLabels.load_mosaic9(Stand(), 0)
    finally:
        (dataloaders.random.choices, dataloaders.random.shuffle, dataloaders.random.uniform,
         dataloaders.random_perspective) = saved
    keep = (out[:, 3] > out[:, 1]) & (out[:, 4] > out[:, 2])
    return {"tiles": np.concatenate([t.ravel() for t in tiles]), "tile_sizes": np.array(TILE_SIZES),
            "tile_boxes": boxes, "tile_labels": labels, "order": np.array(order), "offset": np.array([xc, yc]),
            "canvas": canvas, "boxes": out[keep, 1:5], "labels": out[keep, 0]}


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
    import yolov5.utils.dataloaders as dataloaders
    for name, (order, xc, yc) in MOSAIC9.items():
        save("augment_yolov5_mosaic9_" + name, mosaic9_case(dataloaders, order, xc, yc))
