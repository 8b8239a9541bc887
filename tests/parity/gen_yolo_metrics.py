"""YOLOv5's validation metrics on random detections, for core/eval/ap_per_class.c and confusion_matrix.c.

The references are YOLOv5's own functions (yolov5 7.0.x from the venv scripts/setup.sh makes, imported as
tools/export_yolov5.py does): val.py's process_batch, utils/metrics.py's ap_per_class and ConfusionMatrix,
fed the way val.py feeds them. Without the package only yolo_metrics_unavailable (attribute `reason`) is
written and the C test reports itself skipped.

Cases (float32 tensors; per-image arrays concatenated, `*_img` holding each row's image index):
  yolo_metrics_<k>, k = 0..2: `images` images of random labels (classes 0..nc-1, one class left without labels)
      and detections: jittered copies of labels (IoUs across 0.45..0.95, some with another class) plus random
      boxes, confidences in (0, 1) sorted descending per image as NMS leaves them, classes 0..nc (nc: a class
      no label has). Outputs: `correct` [N, 10] (process_batch), ap_per_class's `classes`, `p`, `r`, `f1`,
      `ap` [C, 10], and `confusion` [nc + 1, nc + 1] (ConfusionMatrix, conf 0.25, IoU 0.45).
  yolo_ap_tp: ap_per_class on a random correct matrix (bits not nested), conf with ties (rows in the order
      YOLOv5 sorted them), pred classes 0..7 and label classes 0..5.
"""
import importlib.util
import os

import numpy as np
import torch

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_yolov5.py")
_spec = importlib.util.spec_from_file_location("export_yolov5", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)


def random_image(rng, nc, n_gt):
    """Labels [M, 5] (class, x1, y1, x2, y2) and detections [N, 6] (x1, y1, x2, y2, conf, class), float32."""
    xy = rng.uniform(0, 500, (n_gt, 2))
    wh = rng.uniform(10, 150, (n_gt, 2))
    gt = np.concatenate([rng.integers(0, nc - 1, (n_gt, 1)), xy, xy + wh], 1)  # class nc-1 never labelled
    near = gt[rng.integers(0, n_gt, 3 * n_gt), 1:] if n_gt else np.zeros((0, 4))
    near = near + rng.normal(0, 1, near.shape) * rng.uniform(0, 25, (len(near), 1))
    near_cls = gt[rng.integers(0, n_gt, len(near)), 0] if n_gt else np.zeros(0)
    near_cls = np.where(rng.uniform(size=len(near)) < 0.7, near_cls, rng.integers(0, nc + 1, len(near)))
    far_xy = rng.uniform(0, 500, (rng.integers(0, 6), 2))
    far = np.concatenate([far_xy, far_xy + rng.uniform(10, 150, far_xy.shape)], 1)
    boxes = np.concatenate([near, far])
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
    cls = np.concatenate([near_cls, rng.integers(0, nc + 1, len(far))])
    conf = rng.uniform(0.001, 1, len(boxes))
    dets = np.concatenate([boxes, conf[:, None], cls[:, None]], 1)
    dets = dets[np.argsort(-conf, kind="stable")]
    return gt.astype(np.float32), dets.astype(np.float32)


def metrics_case(yolov5, save, k, seed, nc, images):
    from yolov5.utils.metrics import ConfusionMatrix, ap_per_class
    from yolov5.val import process_batch
    rng = np.random.default_rng(seed)
    iouv = torch.linspace(0.5, 0.95, 10)
    cm = ConfusionMatrix(nc=nc)
    stats, gts, dets_all = [], [], []
    for i in range(images):
        gt, dets = random_image(rng, nc, int(rng.integers(0, 8)))
        if i == 1:
            dets = dets[:0]  # an image without detections
        gts.append(np.concatenate([np.full((len(gt), 1), i, np.float32), gt], 1))
        dets_all.append(np.concatenate([np.full((len(dets), 1), i, np.float32), dets], 1))
        labels, pred = torch.from_numpy(gt), torch.from_numpy(dets)
        # val.py's loop: the same branches, the same calls
        correct = torch.zeros(len(pred), 10, dtype=torch.bool)
        if len(pred) == 0:
            if len(labels):
                stats.append((correct, *torch.zeros((2, 0)), labels[:, 0]))
                cm.process_batch(detections=None, labels=labels[:, 0])
            continue
        if len(labels):
            correct = process_batch(pred, labels, iouv)
            cm.process_batch(pred, labels)
        stats.append((correct, pred[:, 4], pred[:, 5], labels[:, 0]))
    stats = [torch.cat(x, 0).cpu().numpy() for x in zip(*stats)]
    _, _, p, r, f1, ap, classes = ap_per_class(*stats, names={})
    save(f"yolo_metrics_{k}", {"gt": np.concatenate(gts), "dets": np.concatenate(dets_all),
                               "correct": stats[0].astype(np.float32), "classes": classes, "p": p, "r": r,
                               "f1": f1, "ap": ap, "confusion": cm.matrix}, nc=nc, images=images)


def tp_case(yolov5, save):
    from yolov5.utils.metrics import ap_per_class
    rng = np.random.default_rng(7)
    n = 700
    tp = rng.uniform(size=(n, 10)) < np.linspace(0.6, 0.2, 10)
    conf = np.round(rng.uniform(0, 1, n), 2).astype(np.float32)  # ties
    pred_cls = rng.integers(0, 8, n).astype(np.float32)
    target_cls = rng.integers(0, 6, 400).astype(np.float32)
    _, _, p, r, f1, ap, classes = ap_per_class(tp, conf, pred_cls, target_cls, names={})
    # argsort(-conf) is not stable: the C side gets the rows in the order ap_per_class sorted them (the same
    # call on the same array), which its stable sort keeps
    order = np.argsort(-conf)
    tp, conf, pred_cls = tp[order], conf[order], pred_cls[order]
    save("yolo_ap_tp", {"tp": tp.astype(np.float32), "conf": conf, "pred_cls": pred_cls, "target_cls": target_cls,
                        "classes": classes, "p": p, "r": r, "f1": f1, "ap": ap})


def generate(save):
    out = os.environ["WB_PARITY_DIR"]
    yolov5, why = export.import_yolov5()
    for name in os.listdir(out) if os.path.isdir(out) else []:
        if name.startswith(("yolo_metrics", "yolo_ap_tp")):
            os.remove(os.path.join(out, name))  # stale cases must not stand in for YOLOv5's code
    if yolov5 is None:
        save("yolo_metrics_unavailable", {}, reason=why)
        print(f"gen_yolo_metrics: YOLOv5 metric cases not written: {why}")
        return
    for k, (seed, nc, images) in enumerate([(1, 4, 40), (2, 7, 120), (3, 2, 30)]):
        metrics_case(yolov5, save, k, seed, nc, images)
    tp_case(yolov5, save)
