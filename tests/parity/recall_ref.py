"""Proposal recall as mmdetection 2.x defines it (mmdet/core/evaluation/recall.py eval_recalls, called by
CocoDataset.fast_eval_recall for metric "proposal_fast"), restated with numpy for the C tests of
core/eval/proposal_recall.c (tests/parity/gen_proposal_recall.py, tests/e2e/rpn_recall.sh).

gts[i]: [G, 4] boxes of image i without crowd/ignore ones; props[i]: [P, 5] (x1, y1, x2, y2, score).
"""
import numpy as np

IOU_THRS = np.linspace(0.5, 0.95, 10)  # np.round((0.95 - .5) / .05) + 1 = 10 thresholds, as fast_eval_recall


def overlaps(gt, props):
    """bbox_overlaps in float32 (mode iou, no +1 pixel, union at least 1e-6): [G, P]."""
    gt, props = gt.astype(np.float32), props.astype(np.float32)
    area_g = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    area_p = (props[:, 2] - props[:, 0]) * (props[:, 3] - props[:, 1])
    out = np.zeros((len(gt), len(props)), np.float32)
    for i, g in enumerate(gt):
        w = np.maximum(np.minimum(g[2], props[:, 2]) - np.maximum(g[0], props[:, 0]), np.float32(0))
        h = np.maximum(np.minimum(g[3], props[:, 3]) - np.maximum(g[1], props[:, 1]), np.float32(0))
        inter = w * h
        out[i] = inter / np.maximum(area_g[i] + area_p - inter, np.float32(1e-6))
    return out


def greedy_values(iou):
    """One value per gt box: repeatedly the largest IoU left (numpy argmax: first row, first column on ties),
    its row and column then struck out (-1)."""
    m = iou.copy()
    values = np.zeros(len(m), np.float32)
    if m.size == 0:
        return values
    for j in range(len(m)):
        cols = m.argmax(axis=1)
        best = m[np.arange(len(m)), cols]
        row = best.argmax()
        values[j] = best[row]
        m[row, :] = -1
        m[:, cols[row]] = -1
    return values


def eval_recalls(gts, props, nums):
    """recalls [len(nums), 10]: the fraction of all images' gt boxes whose greedy value reaches each threshold,
    using each image's best nums[k] proposals by score (stable order on ties)."""
    total = sum(len(g) for g in gts)
    recalls = np.zeros((len(nums), len(IOU_THRS)))
    for k, num in enumerate(nums):
        values = []
        for gt, p in zip(gts, props):
            order = np.argsort(-p[:, 4], kind="stable") if len(p) else np.zeros(0, np.int64)
            top = p[order][: min(len(p), num), :4]
            values.append(greedy_values(overlaps(gt, top)) if len(gt) else np.zeros(0, np.float32))
        values = np.concatenate(values) if values else np.zeros(0, np.float32)
        for t, thr in enumerate(IOU_THRS):
            recalls[k, t] = (values >= thr).sum() / float(total) if total else 0.0
    return recalls
