"""Proposal recall (core/eval/proposal_recall.c) against mmdetection's eval_recalls definition (recall_ref.py).

Cases (float32 tensors): `image_ids` [I] (the images evaluated, some with nothing), `gt` [M, 6] (image id, x1, y1,
x2, y2, crowd: crowd boxes are in the file and must be left out), `props` [N, 6] (image id, x1, y1, x2, y2, score;
images interleaved, scores in no order), `nums` [K], `recalls` [K, 10], `ar` [K]; attributes thr0..thr9 (the IoU
thresholds as numpy's linspace makes them).
  proposal_recall_ties: nums 1, 2, 3, 5 on hand-made boxes: IoUs exactly at 0.5 and 0.75 (quarter-pixel
      coordinates), duplicate proposals and a proposal equally good for two gt boxes (the greedy tie-break
      decides), two gt boxes tied on one proposal (the first row wins) and one gt box tied on two proposals
      (the first column wins), an image with gt boxes and no proposal, one with proposals and no gt box, and
      one with neither, a crowd box.
  proposal_recall_random: nums 100, 300, 1000 on 9 images of 0..25 gt boxes and 0..1400 proposals (jittered
      copies of the gt boxes and random ones, coordinates on a half-pixel grid so that IoUs tie).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recall_ref  # noqa: E402


def pack(save, name, image_ids, gt_rows, prop_rows, nums):
    gt = np.array(gt_rows, np.float32).reshape(-1, 6)
    props = np.array(prop_rows, np.float32).reshape(-1, 6)
    gts = [gt[(gt[:, 0] == i) & (gt[:, 5] == 0), 1:5] for i in image_ids]
    per_image = [props[props[:, 0] == i, 1:6] for i in image_ids]
    recalls = recall_ref.eval_recalls(gts, per_image, nums)
    thrs = {f"thr{t}": float(v) for t, v in enumerate(recall_ref.IOU_THRS)}
    save(name, {"image_ids": np.array(image_ids, np.float32), "gt": gt, "props": props,
                "nums": np.array(nums, np.float32), "recalls": recalls, "ar": recalls.mean(axis=1)}, **thrs)


def ties_case(save):
    gt = [
        (0, 0, 0, 10, 10, 0), (0, 20, 0, 30, 10, 0), (0, 40, 40, 60, 60, 1),  # the third is crowd
        (1, 0, 0, 8, 8, 0),
        (2, 5, 5, 25, 25, 0), (2, 50, 50, 70, 70, 0),
        (4, 0, 0, 10, 10, 0), (4, 10, 0, 20, 10, 0),
        (6, 0, 0, 10, 10, 0), (6, 4, 0, 14, 10, 0),
        (7, 0, 20, 10, 30, 0), (7, 0, 14, 10, 24, 0),
    ]
    props = [
        (0, 0, 0, 10, 20, 0.9),       # IoU 0.5 exactly with gt 0
        (2, 5, 5, 25, 25, 0.95),      # equals gt 0 of image 2
        (0, 20, 0, 30, 7.5, 0.8),     # IoU 0.75 exactly with gt 1
        (0, 40, 40, 60, 60, 0.99),    # on the crowd box only
        (3, 0, 0, 50, 50, 0.7),       # image 3 has no gt box
        (2, 5, 5, 25, 25, 0.85),      # a duplicate of the best one
        (2, 50, 50, 70, 65, 0.6),     # 0.75 with gt 1 of image 2
        (4, 5, 0, 15, 10, 0.9),       # 1/3 with both gt boxes of image 4: the first row takes it
        (4, 0, 0, 10, 10, 0.5),       # then gt 0 of image 4 exactly
        (0, 1, 1, 11, 11, 0.3),
        (2, 5.25, 5.25, 25.25, 25.25, 0.55),
        # image 6: both gt boxes have IoU 2/3 with the first proposal; the first gt box wins it and is left
        # without the second (0.6 with it), the second gets 0.29
        (6, 2, 0, 12, 10, 0.9), (6, 0, 0, 10, 6, 0.8),
        # image 7: gt 0 has IoU 2/3 with both proposals; the first column (higher score) wins, so gt 1 keeps the
        # second (0.5625)
        (7, 0, 20, 10, 35, 0.9), (7, 0, 15, 10, 30, 0.8),
    ]
    pack(save, "proposal_recall_ties", [0, 1, 2, 3, 4, 5, 6, 7], gt, props, [1, 2, 3, 5])


def random_case(save):
    rng = np.random.default_rng(12)
    gt, props = [], []
    image_ids = [3, 7, 8, 11, 12, 20, 21, 30, 31]
    for n, img in enumerate(image_ids):
        g = int(rng.integers(0, 26)) if n != 2 else 0
        xy = np.round(rng.uniform(0, 400, (g, 2)) * 2) / 2
        wh = np.round(rng.uniform(4, 160, (g, 2)) * 2) / 2
        boxes = np.concatenate([xy, xy + wh], 1)
        crowd = (rng.uniform(size=g) < 0.1).astype(np.float32)
        gt += [(img, *b, c) for b, c in zip(boxes, crowd)]
        p = int(rng.integers(0, 1400)) if n != 4 else 0
        near = boxes[rng.integers(0, g, p // 2)] if g else np.zeros((0, 4))
        near = np.round((near + rng.normal(0, 1, near.shape) * rng.uniform(0, 20, (len(near), 1))) * 2) / 2
        far_xy = np.round(rng.uniform(0, 450, (p - len(near), 2)) * 2) / 2
        far = np.concatenate([far_xy, far_xy + np.round(rng.uniform(2, 200, far_xy.shape) * 2) / 2], 1)
        pb = np.concatenate([near, far])
        pb[:, 2:] = np.maximum(pb[:, 2:], pb[:, :2] + 0.5)
        scores = rng.permutation(len(pb)).astype(np.float32) / max(len(pb), 1) + n * 1e-3  # distinct per image
        props += [(img, *b, s) for b, s in zip(pb, scores)]
    order = rng.permutation(len(props))
    pack(save, "proposal_recall_random", image_ids, gt, [props[i] for i in order], [100, 300, 1000])


def generate(save):
    ties_case(save)
    random_case(save)
