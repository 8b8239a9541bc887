"""Rect batch shapes of YOLOv5 7.0 (utils/dataloaders.py, LoadImagesAndLabels with rect=True) on the shared
coco128, recomputed here with YOLOv5's formula and operation order: image sizes as YOLOv5's exif_size reads
them (PIL, EXIF rotations 6 and 8 swap the sides), ar = h / w sorted, batch i of the sorted list gets
ratio [max ar, 1] when max ar < 1, [1, 1 / min ar] when min ar > 1, else [1, 1], and the shape
ceil(ratio * img_size / stride + pad) * stride.

Cases rect_coco128_b<batch>_p<pad*10>: "sizes" [n, 2] (w, h in file-name order) and "shapes" [nb, 2] (w, h,
in sorted batch order). Nothing is written when ../shared/datasets/coco128 is absent (the test says so)."""
import os

import numpy as np
from PIL import Image

COCO128 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "datasets", "coco128",
                       "images", "train2017")


def exif_size(path):
    """YOLOv5's exif_size: the PIL size, sides swapped for EXIF orientations 6 and 8."""
    with Image.open(path) as im:
        w, h = im.size
        orientation = im.getexif().get(0x0112)
    return (h, w) if orientation in (6, 8) else (w, h)


def shapes_of(sizes, batch, img_size=640, stride=32, pad=0.0):
    s = np.array(sizes, dtype=np.float64)  # wh
    n = len(s)
    bi = np.floor(np.arange(n) / batch).astype(int)
    nb = bi[-1] + 1
    ar = s[:, 1] / s[:, 0]
    ar = ar[ar.argsort()]
    shapes = [[1, 1]] * nb
    for i in range(nb):
        ari = ar[bi == i]
        mini, maxi = ari.min(), ari.max()
        if maxi < 1:
            shapes[i] = [maxi, 1]
        elif mini > 1:
            shapes[i] = [1, 1 / mini]
    hw = np.ceil(np.array(shapes) * img_size / stride + pad).astype(int) * stride
    return hw[:, ::-1]  # as w, h


def generate(save):
    if not os.path.isdir(COCO128):
        print(f"gen_rect_yolov5: no {COCO128}; rect shape cases not written")
        return
    names = sorted(f for f in os.listdir(COCO128) if f.lower().endswith((".jpg", ".jpeg", ".png")))
    sizes = [exif_size(os.path.join(COCO128, f)) for f in names]
    for batch, pad in [(16, 0.0), (16, 0.5), (7, 0.5)]:
        save(f"rect_coco128_b{batch}_p{int(pad * 10)}",
             {"sizes": np.array(sizes, dtype=np.float32), "shapes": shapes_of(sizes, batch, pad=pad).astype(np.float32)},
             batch=batch, pad=pad)
