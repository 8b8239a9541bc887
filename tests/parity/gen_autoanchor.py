"""Autoanchor references from YOLOv5 7.0's own utils/autoanchor.py (the `yolov5` package of the venv that
scripts/setup.sh makes) on the shared coco128 (YOLO labels) and BCCD (Pascal VOC) training splits.

Each dataset reaches YOLOv5 as its LoadImagesAndLabels would hold it: every image through YOLOv5's own
verify_image_label (EXIF-corrected size, labels deduplicated); BCCD's XML is first converted as YOLOv5's
data/VOC.yaml converts it (difficult objects left out). Boxes without area are left out on both sides, as
training drops them.

Cases, for <d> in coco128, bccd:
  autoanchor_<d>_check: check_anchors(dataset, model with YOLOv5's default P3-P5 anchors, thr=4.0, imgsz=640)
      after np.random.seed(0). The random scales it draws are recomputed from the same seed and stored per image
      ("scale:<image stem>": the float64 draw as float32 high and low parts; "count:<image stem>": its boxes)
      so the C side applies the very same draws. Its BPR and anchors/target are read at full precision where
      check_anchors formats them for its log line (attributes bpr, aat).
  autoanchor_<d>_kmeans: kmean_anchors(dataset, n=9, img_size=640, thr=4.0, gen=1000) after np.random.seed(0)
      and random.seed(0): "anchors" [9, 2], attributes bpr (over all boxes) and fitness (over boxes with a side
      of at least 2 px), each computed with kmean_anchors' own metric.
Without the package or the shared datasets only autoanchor_unavailable (attribute reason) is written.
"""
import glob
import importlib.util
import os
import random
import tempfile
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import torch

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("export_yolov5", os.path.join(_HERE, "..", "..", "tools",
                                                                             "export_yolov5.py"))
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

SHARED = os.path.normpath(os.path.join(_HERE, "..", "..", "..", "shared", "datasets"))
DEFAULT_ANCHORS = [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]]
STRIDES = [8, 16, 32]
BCCD_CLASSES = ["RBC", "WBC", "Platelets"]


def parity_dir():
    out = os.environ["WB_PARITY_DIR"]
    os.makedirs(out, exist_ok=True)
    return out


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def yolo_dataset(dataloaders, pairs):
    """What LoadImagesAndLabels keeps of (image, label file) pairs: shapes [N, 2] and labels."""
    files, shapes, labels = [], [], []
    for im_file, lb_file in pairs:
        with open(im_file, "rb") as f:  # verify_image_label rewrites a JPEG without its end marker: never here
            assert f.read()[-2:] == b"\xff\xd9", f"{im_file} lacks the JPEG end marker"
        im, lb, shape, _, _, _, _, nc, msg = dataloaders.verify_image_label((im_file, lb_file, ""))
        assert nc == 0, msg
        lb = lb[(lb[:, 3] > 0) & (lb[:, 4] > 0)]
        files.append(im)
        shapes.append(shape)
        labels.append(lb)
    return SimpleNamespace(im_files=files, shapes=np.array(shapes, dtype=np.float64), labels=labels)


def coco128_pairs():
    root = os.path.join(SHARED, "coco128")
    images = sorted(glob.glob(os.path.join(root, "images", "train2017", "*.jpg")))
    return [(im, os.path.join(root, "labels", "train2017", stem(im) + ".txt")) for im in images]


def bccd_pairs(tmp):
    """VOC XML -> YOLO label files as YOLOv5's data/VOC.yaml converts them."""
    root = os.path.join(SHARED, "bccd")
    with open(os.path.join(root, "ImageSets", "Main", "train.txt")) as f:
        ids = [line.strip() for line in f if line.strip()]
    pairs = []
    for image_id in ids:
        tree = ET.parse(os.path.join(root, "Annotations", image_id + ".xml")).getroot()
        size = tree.find("size")
        w, h = int(size.find("width").text), int(size.find("height").text)
        lines = []
        for obj in tree.iter("object"):
            difficult = obj.find("difficult")
            if obj.find("name").text not in BCCD_CLASSES or (difficult is not None and int(difficult.text) == 1):
                continue
            b = [float(obj.find("bndbox").find(k).text) for k in ("xmin", "xmax", "ymin", "ymax")]
            x, y = (b[0] + b[1]) / 2.0 - 1, (b[2] + b[3]) / 2.0 - 1
            box = (x / w, y / h, (b[1] - b[0]) / w, (b[3] - b[2]) / h)
            lines.append(" ".join(str(v) for v in (BCCD_CLASSES.index(obj.find("name").text), *box)))
        label = os.path.join(tmp, image_id + ".txt")
        with open(label, "w") as f:
            f.write("\n".join(lines) + "\n")
        pairs.append((os.path.join(root, "JPEGImages", image_id + ".jpg"), label))
    return pairs


def detect_with_default_anchors():
    m = SimpleNamespace(anchors=torch.tensor(DEFAULT_ANCHORS, dtype=torch.float32).view(3, 3, 2) /
                        torch.tensor(STRIDES, dtype=torch.float32).view(-1, 1, 1),
                        stride=torch.tensor(STRIDES, dtype=torch.float32))
    return SimpleNamespace(model=[m])


def check_anchors_values(autoanchor, dataset):
    """check_anchors' aat and bpr at full precision, taken where its log line formats them."""
    seen = []
    original = torch.Tensor.__format__

    def record(self, spec):
        seen.append(self.item())
        return original(self, spec)

    torch.Tensor.__format__ = record
    try:
        np.random.seed(0)
        autoanchor.check_anchors(dataset, detect_with_default_anchors(), thr=4.0, imgsz=640)
    finally:
        torch.Tensor.__format__ = original
    aat, bpr = seen[:2]
    return aat, bpr


def kmeans_case(autoanchor, dataset):
    np.random.seed(0)
    random.seed(0)
    anchors = autoanchor.kmean_anchors(dataset, n=9, img_size=640, thr=4.0, gen=1000, verbose=False)
    shapes = 640 * dataset.shapes / dataset.shapes.max(1, keepdims=True)
    wh0 = torch.tensor(np.concatenate([l[:, 3:5] * s for s, l in zip(shapes, dataset.labels)])).float()
    wh = wh0[(wh0 >= 2.0).any(1)]
    k = torch.tensor(anchors, dtype=torch.float32)

    def best(sizes):  # kmean_anchors' metric
        r = sizes[:, None] / k[None]
        return torch.min(r, 1 / r).min(2)[0].max(1)[0]

    bpr = (best(wh0) > 0.25).float().mean().item()
    b = best(wh)
    fitness = (b * (b > 0.25).float()).mean().item()
    return anchors, bpr, fitness


def generate(save):
    yolov5, why = export.import_yolov5()
    if yolov5 is not None and not os.path.isdir(SHARED):
        why = f"the shared datasets are not at {SHARED}"
    for path in glob.glob(os.path.join(parity_dir(), "autoanchor_*.safetensors")):
        os.remove(path)  # stale cases must not stand in for YOLOv5's code
    if yolov5 is None or why:
        save("autoanchor_unavailable", {}, reason=why)
        print(f"gen_autoanchor: autoanchor cases not written: {why}")
        return
    from yolov5.utils import autoanchor, dataloaders
    with tempfile.TemporaryDirectory() as tmp:
        for name, pairs in (("coco128", coco128_pairs()), ("bccd", bccd_pairs(tmp))):
            dataset = yolo_dataset(dataloaders, pairs)
            aat, bpr = check_anchors_values(autoanchor, dataset)
            np.random.seed(0)
            scales = np.random.uniform(0.9, 1.1, size=(dataset.shapes.shape[0], 1))  # check_anchors' draw
            tensors = {}
            for f, s, l in zip(dataset.im_files, scales, dataset.labels):
                hi = np.float32(s[0])  # float64 as float32 high and low parts: the exact draw
                tensors["scale:" + stem(f)] = np.array([hi, np.float32(s[0] - np.float64(hi))])
                tensors["count:" + stem(f)] = np.array([len(l)])
            save(f"autoanchor_{name}_check", tensors, bpr=bpr, aat=aat, images=len(dataset.im_files))
            anchors, kbpr, fitness = kmeans_case(autoanchor, dataset)
            save(f"autoanchor_{name}_kmeans", {"anchors": anchors}, bpr=kbpr, fitness=fitness)
            print(f"gen_autoanchor: {name}: check_anchors BPR {bpr:.6f} ({aat:.4f} anchors/target); "
                  f"kmean_anchors BPR {kbpr:.6f}, fitness {fitness:.6f}")
