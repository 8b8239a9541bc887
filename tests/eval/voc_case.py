"""Writes the VOC mAP parity case for tests/eval/voc_parity.c.

Ground truth: the shared BCCD val split (Pascal VOC XML), with every 7th box
marked difficult so that the "ignored" path is exercised (BCCD has no
difficult boxes of its own). Detections: deterministic jitter of the ground
truth (some missed, some with the wrong class, some found twice) plus random
false positives. Expected numbers: a float64 re-implementation of
mmdetection's eval_map (mean_ap.py: tpfp_default with use_legacy_coordinate,
average_precision 'area' and '11points'), with the three choices documented
in core/eval/voc_eval.h: float64 instead of float32, stable score sorting,
11-point thresholds at exact tenths. Scores are distinct, so the sorting
choice does not change anything here.

Usage: python3 voc_case.py SOURCE_DIR OUT.json
"""
import json
import os
import random
import sys
import xml.etree.ElementTree as ET

import numpy as np


def load_bccd(root):
    with open(os.path.join(root, "ImageSets", "Main", "val.txt")) as f:
        names = [line.strip() for line in f if line.strip()]
    images = []
    for name in names:
        tree = ET.parse(os.path.join(root, "Annotations", name + ".xml"))
        objs = []
        for obj in tree.findall("object"):
            bb = obj.find("bndbox")
            box = [float(bb.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax")]
            objs.append((obj.find("name").text, box))
        images.append(objs)
    return images


# --- mmdetection's eval_map, float64 -------------------------------------

def bbox_overlaps_legacy(a, b):
    ious = np.zeros((a.shape[0], b.shape[0]))
    if ious.size == 0:
        return ious
    area_a = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    area_b = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    for i in range(a.shape[0]):
        w = np.maximum(np.minimum(a[i, 2], b[:, 2]) - np.maximum(a[i, 0], b[:, 0]) + 1, 0)
        h = np.maximum(np.minimum(a[i, 3], b[:, 3]) - np.maximum(a[i, 1], b[:, 1]) + 1, 0)
        overlap = w * h
        ious[i] = overlap / np.maximum(area_a[i] + area_b - overlap, 1e-6)
    return ious


def tpfp_default(dets, gts, gts_ignore, iou_thr):
    ignore = np.concatenate((np.zeros(gts.shape[0], bool), np.ones(gts_ignore.shape[0], bool)))
    gts = np.vstack((gts, gts_ignore))
    tp = np.zeros(dets.shape[0])
    fp = np.zeros(dets.shape[0])
    if gts.shape[0] == 0:
        fp[...] = 1
        return tp, fp
    ious = bbox_overlaps_legacy(dets[:, :4], gts)
    ious_max, ious_argmax = ious.max(axis=1), ious.argmax(axis=1)
    covered = np.zeros(gts.shape[0], bool)
    for i in np.argsort(-dets[:, -1], kind="stable"):
        if ious_max[i] >= iou_thr:
            g = ious_argmax[i]
            if not ignore[g]:
                if not covered[g]:
                    covered[g] = True
                    tp[i] = 1
                else:
                    fp[i] = 1
        else:
            fp[i] = 1
    return tp, fp


def average_precision(recalls, precisions, mode):
    if mode == "area":
        mrec = np.concatenate(([0.0], recalls, [1.0]))
        mpre = np.concatenate(([0.0], precisions, [0.0]))
        for i in range(mpre.shape[0] - 1, 0, -1):
            mpre[i - 1] = max(mpre[i - 1], mpre[i])
        ind = np.where(mrec[1:] != mrec[:-1])[0]
        return float(np.sum((mrec[ind + 1] - mrec[ind]) * mpre[ind + 1]))
    ap = 0.0
    for k in range(11):
        precs = precisions[recalls >= k / 10]
        ap += precs.max() if precs.size > 0 else 0
    return ap / 11


def eval_map(det_results, annotations, num_classes, iou_thr, mode):
    results = []
    eps = np.finfo(np.float32).eps
    for c in range(num_classes):
        cls_dets = [img[c] for img in det_results]
        cls_gts = [ann["bboxes"][ann["labels"] == c] for ann in annotations]
        cls_ign = [ann["bboxes_ignore"][ann["labels_ignore"] == c] for ann in annotations]
        tpfp = [tpfp_default(d, g, i, iou_thr) for d, g, i in zip(cls_dets, cls_gts, cls_ign)]
        num_gts = sum(g.shape[0] for g in cls_gts)
        dets = np.vstack(cls_dets)
        order = np.argsort(-dets[:, -1], kind="stable")
        tp = np.cumsum(np.hstack([t for t, _ in tpfp])[order])
        fp = np.cumsum(np.hstack([f for _, f in tpfp])[order])
        recalls = tp / np.maximum(num_gts, eps)
        precisions = tp / np.maximum(tp + fp, eps)
        results.append({"num_gts": num_gts, "num_dets": int(dets.shape[0]),
                        "recall": float(recalls[-1]) if recalls.size and num_gts else 0.0,
                        "ap": average_precision(recalls, precisions, mode) if num_gts else 0.0})
    aps = [r["ap"] for r in results if r["num_gts"] > 0]
    return (float(np.mean(aps)) if aps else 0.0), results


# --- the case ------------------------------------------------------------

def main():
    source_dir, out_path = sys.argv[1:3]
    root = os.path.join(source_dir, "..", "shared", "datasets", "bccd")
    if not os.path.isdir(root):
        raise SystemExit(f"missing {os.path.normpath(root)}: the shared BCCD dataset must sit next to the checkout")
    images = load_bccd(root)
    classes = sorted({name for objs in images for name, _ in objs})
    rng = random.Random(7)
    gts, dets, n_box = [], [], 0
    for i, objs in enumerate(images):
        for name, box in objs:
            label = classes.index(name)
            gts.append([i, label, *box, int(n_box % 7 == 3)])
            n_box += 1
            for _ in range(2 if rng.random() < 0.1 else 1):  # sometimes found twice
                if rng.random() < 0.15:
                    continue
                w, h = box[2] - box[0], box[3] - box[1]
                jit = [round(v + rng.gauss(0, 0.08 * s), 1) for v, s in zip(box, (w, h, w, h))]
                lab = rng.randrange(len(classes)) if rng.random() < 0.05 else label
                dets.append([i, lab, *jit, rng.random()])
        for _ in range(3):
            x, y = rng.uniform(0, 560), rng.uniform(0, 400)
            dets.append([i, rng.randrange(len(classes)), round(x, 1), round(y, 1), round(x + rng.uniform(10, 80), 1),
                         round(y + rng.uniform(10, 80), 1), rng.random()])

    def arr(rows):
        return np.array(rows, dtype=np.float64).reshape(-1, 4)

    annotations, det_results = [], []
    for i in range(len(images)):
        mine = [g for g in gts if g[0] == i]
        keep, ign = [g for g in mine if not g[6]], [g for g in mine if g[6]]
        annotations.append({"bboxes": arr([g[2:6] for g in keep]), "labels": np.array([g[1] for g in keep], int),
                            "bboxes_ignore": arr([g[2:6] for g in ign]),
                            "labels_ignore": np.array([g[1] for g in ign], int)})
        det_results.append([np.array([d[2:7] for d in dets if d[0] == i and d[1] == c], np.float64).reshape(-1, 5)
                            for c in range(len(classes))])
    expected = {}
    for mode in ("area", "11points"):
        mean_ap, per_class = eval_map(det_results, annotations, len(classes), 0.5, mode)
        expected[mode] = {"map": mean_ap, "per_class": per_class}
        print(f"{mode:9s} mAP {mean_ap:.6f}  " + "  ".join(f"{c} {r['ap']:.4f}" for c, r in zip(classes, per_class)))
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump({"classes": classes, "n_images": len(images), "iou_thr": 0.5, "gts": gts, "dets": dets,
                   "expected": expected}, f)


if __name__ == "__main__":
    main()
