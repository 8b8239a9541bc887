"""References for the host box utilities (tests/unit/test_boxes.c).

box_iou and nms come from torchvision.ops; the box coder and the anchor
generator are written here from mmdetection's documented formulas
(DeltaXYWHBBoxCoder, AnchorGenerator with scale_major=True), in float64.
"""
import math

import torch
import torchvision.ops as tvo


def random_boxes(n, scale=30.0, max_size=9.0):
    xy = torch.rand(n, 2) * scale
    wh = torch.rand(n, 2) * max_size + 1
    return torch.cat([xy, xy + wh], dim=1)


def clustered_boxes(n, clusters):
    """Boxes jittered around a few centers, so many pairs overlap heavily."""
    centers = torch.rand(clusters, 2) * 60
    pick = torch.randint(0, clusters, (n,))
    ctr = centers[pick] + torch.randn(n, 2) * 2
    wh = 6 + torch.rand(n, 2) * 6
    return torch.cat([ctr - wh / 2, ctr + wh / 2], dim=1)


def bbox2delta(anchors, gt, means, stds):
    p, g = anchors.double(), gt.double()
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    px, py = (p[:, 0] + p[:, 2]) * 0.5, (p[:, 1] + p[:, 3]) * 0.5
    gw, gh = g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
    gx, gy = (g[:, 0] + g[:, 2]) * 0.5, (g[:, 1] + g[:, 3]) * 0.5
    d = torch.stack([(gx - px) / pw, (gy - py) / ph, torch.log(gw / pw), torch.log(gh / ph)], dim=1)
    return (d - torch.tensor(means, dtype=torch.float64)) / torch.tensor(stds, dtype=torch.float64)


def delta2bbox(anchors, deltas, means, stds, max_ratio, clip_hw):
    p = anchors.double()
    d = deltas.double() * torch.tensor(stds, dtype=torch.float64) + torch.tensor(means, dtype=torch.float64)
    bound = max_ratio if max_ratio > 0 else abs(math.log(16 / 1000))
    pxy = (p[:, :2] + p[:, 2:]) * 0.5
    pwh = p[:, 2:] - p[:, :2]
    gxy = pxy + pwh * d[:, :2]
    gwh = pwh * d[:, 2:].clamp(min=-bound, max=bound).exp()
    boxes = torch.cat([gxy - gwh * 0.5, gxy + gwh * 0.5], dim=1)
    if clip_hw is not None:
        boxes[:, 0::2] = boxes[:, 0::2].clamp(min=0, max=clip_hw[1])
        boxes[:, 1::2] = boxes[:, 1::2].clamp(min=0, max=clip_hw[0])
    return boxes


def base_anchors(base_size, scales, ratios, center_offset):
    """mmdet gen_single_level_base_anchors, scale_major=True: ratio-major rows."""
    scales = torch.tensor(scales, dtype=torch.float64)
    ratios = torch.tensor(ratios, dtype=torch.float64)
    h_ratios = torch.sqrt(ratios)
    w_ratios = 1 / h_ratios
    ws = (base_size * w_ratios[:, None] * scales[None, :]).reshape(-1)
    hs = (base_size * h_ratios[:, None] * scales[None, :]).reshape(-1)
    c = center_offset * base_size
    return torch.stack([c - 0.5 * ws, c - 0.5 * hs, c + 0.5 * ws, c + 0.5 * hs], dim=-1)


def grid_anchors(base, feat_h, feat_w, stride):
    """mmdet single_level_grid_priors: row (y * feat_w + x) * n_base + a."""
    sx = torch.arange(feat_w, dtype=torch.float64) * stride
    sy = torch.arange(feat_h, dtype=torch.float64) * stride
    xx = sx.repeat(feat_h)
    yy = sy.view(-1, 1).repeat(1, feat_w).view(-1)
    shifts = torch.stack([xx, yy, xx, yy], dim=-1)
    return (base[None, :, :] + shifts[:, None, :]).reshape(-1, 4)


def generate(save):
    a, b = random_boxes(37), random_boxes(23)
    save("boxes_iou", {"a": a, "b": b, "iou": tvo.box_iou(a.double(), b.double())})

    boxes = clustered_boxes(300, 12)
    scores = torch.randperm(300).float() / 300 + 0.001  # distinct: the order is unambiguous
    labels = torch.randint(0, 5, (300,))
    tensors = {"boxes": boxes, "scores": scores, "labels": labels.float()}
    for name, thr in (("t50", 0.5), ("t30", 0.3)):
        tensors["keep_" + name] = tvo.nms(boxes, scores, thr).float()
        tensors["keep_batched_" + name] = tvo.batched_nms(boxes, scores, labels, thr).float()
    save("boxes_nms", tensors)

    means, stds = [0.1, -0.05, 0.02, 0.0], [0.1, 0.1, 0.2, 0.2]
    anchors = random_boxes(50)
    gt = anchors + (torch.rand(50, 4) - 0.5) * 4
    gt[:, 2:] = torch.maximum(gt[:, 2:], gt[:, :2] + 0.5)
    deltas = torch.randn(50, 4) * 0.8
    deltas[:5, 2:] = torch.tensor([[12.0, -15.0], [-30.0, 25.0], [1.0, 2.0], [-1.5, 0.3], [4.0, -4.0]])
    save("boxes_coder", {
        "anchors": anchors, "gt": gt, "deltas": deltas,
        "means": torch.tensor(means), "stds": torch.tensor(stds),
        "encoded": bbox2delta(anchors, gt, means, stds),
        "decoded_default": delta2bbox(anchors, deltas, means, stds, 0.0, None),
        "decoded_ratio2_clip": delta2bbox(anchors, deltas, means, stds, 2.0, (30, 40)),
    })

    # RetinaNet: octave_base_scale 4, scales_per_octave 3, ratios 0.5/1/2, strides 8..128.
    scales = [4 * 2 ** (i / 3) for i in range(3)]
    ratios = [0.5, 1.0, 2.0]
    strides = [8, 16, 32, 64, 128]
    tensors = {"scales": torch.tensor(scales), "ratios": torch.tensor(ratios)}
    for s in strides:
        tensors[f"base_{s}"] = base_anchors(s, scales, ratios, 0.0)
    tensors["base_16_half"] = base_anchors(16, scales, ratios, 0.5)
    tensors["grid_16"] = grid_anchors(tensors["base_16"], 5, 7, 16)
    tensors["grid_128"] = grid_anchors(tensors["base_128"], 3, 2, 128)
    save("boxes_anchors", tensors)
