"""FCOS parity cases against torchvision 0.14's fcos_resnet50_fpn.

Weights: tools/export_fcos.py (seeded random, BatchNorm statistics and affine
parameters randomised, workbench names), with the head's output convs made
to look trained: class logits around -8 with a spread of about 1.7, so that
some but not all (point, class) pairs pass score 0.05, box distances of a few
strides, centerness logits of either sign. Eval mode, float64 references.

Case fcos_r50: a batch of 2 at 128x192. torchvision steps its anchors by
image size // feature size per axis, so P7 (1x2) is 128 px apart down and
96 px across: fcos_head's torchvision assigner does the same.
Saved:
  x                                the input
  cls<l>, reg<l>, ctr<l>           per-level head outputs [N, C, H, W] (the workbench layout of
                                   torchvision's cls_logits, bbox_regression, bbox_ctrness)
  boxes<i>, labels<i>              ground truth (image 1 has none)
  loss_cls, loss_bbox, loss_ctr    torchvision's FCOS.compute_loss on those (classification,
                                   bbox_regression, bbox_ctrness)
  grad:head.<name>                 gradients of their sum w.r.t. some head parameters
  det_{boxes,scores,labels}<i>     postprocess_detections (score 0.05, top 1000 per level,
                                   NMS 0.6, 100 per image)
  few_det_{boxes,scores,labels}<i> the same with score 0.01 and the top 20 per level (FEW_*): some
                                   10^4 pairs per level pass the score for 20 kept, as with random weights

Case fcos_mmdet: mmdetection 2.x's FCOSHead.get_targets and loss, written out
here (mmdetection is not installed), on random head outputs of a batch of 2 at
64x96, strides 8, 16, 32, regress ranges (-1, 32, 64, INF), 4 classes:
points at cell centers, inclusive ranges, the smallest box, distances in pixels
(the outputs are already exp'ed, as fcos_head's with norm_on_bbox = false),
GIoU weighted by the centerness targets / their sum, focal and centerness BCE
/ positives. Without center sampling (mmdetection's default) and with it
(radius 1.5). Saved: the outputs cls<l>, reg<l>, ctr<l>, the boxes, and per
setting s: loss_{cls,bbox,ctr}_<s>, the gradients of their sum w.r.t. every
output (d<name>_<s>) and the number of positives. GIoU is torchvision's (eps
1e-7; mmdetection's GIoULoss has eps 1e-6: 1e-7 relative on these boxes).
"""
import importlib.util
import os

import torch
import torch.nn.functional as F
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import generalized_box_iou_loss, sigmoid_focal_loss

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_fcos.py")
_spec = importlib.util.spec_from_file_location("export_fcos", _TOOL)
export_fcos = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_fcos)

SIZE = (128, 192)  # P7 is 1x2 with torchvision stride 192 // 2 = 96 across
GT = [  # per image: boxes (x1, y1, x2, y2) on P3 and P4, nested and overlapping ones (the smallest wins)
    ([[10.0, 20.0, 60.0, 70.0], [30.5, 8.25, 150.0, 120.0], [60.0, 2.0, 190.0, 127.0], [40.0, 30.0, 58.0, 52.0],
      [50.0, 50.0, 70.0, 80.0], [150.5, 60.0, 190.0, 100.0]], [3, 17, 1, 3, 90, 45]),
    ([], []),  # torchvision's path for an image without objects
]
GRAD_PARAMS = ["classification_head.cls_logits.weight", "classification_head.cls_logits.bias",
               "regression_head.bbox_reg.weight", "regression_head.bbox_reg.bias",
               "regression_head.bbox_ctrness.weight", "regression_head.bbox_ctrness.bias",
               "regression_head.conv.9.weight", "regression_head.conv.10.weight", "regression_head.conv.10.bias",
               "classification_head.conv.10.weight", "classification_head.conv.10.bias",
               "classification_head.conv.9.weight",
               "classification_head.conv.0.weight", "regression_head.conv.0.bias"]


def make_model():
    model = export_fcos.build(50, 91, 90, randomize_bn=True)
    head = model.head
    gen = torch.Generator().manual_seed(91)
    with torch.no_grad():
        cls = head.classification_head.cls_logits
        cls.weight.mul_(4.5)
        cls.bias.copy_(torch.randn(91, generator=gen) * 0.8 - 8.0)
        head.regression_head.bbox_reg.weight.mul_(1.5)
        head.regression_head.bbox_reg.bias.copy_(torch.rand(4, generator=gen) + 1.0)
        head.regression_head.bbox_ctrness.weight.mul_(4.5)
    return model


def per_level(flat, shapes, channels):
    """torchvision's [N, sum(H*W), C] -> per level [N, C, H, W]."""
    out, start = [], 0
    for h, w in shapes:
        part = flat[:, start:start + h * w, :]
        out.append(part.reshape(flat.shape[0], h, w, channels).permute(0, 3, 1, 2).contiguous())
        start += h * w
    return out


FEW_CANDIDATES, FEW_SCORE = 20, 0.01


def generate(save):
    gen_mmdet(save)
    model = make_model()
    out_dir = os.environ["WB_PARITY_DIR"]
    os.makedirs(out_dir, exist_ok=True)
    state = export_fcos.workbench_state(model)
    export_fcos.export.write_safetensors(os.path.join(out_dir, "fcos_r50_weights.safetensors"), state)
    model = model.double().eval()
    model.score_thresh, model.topk_candidates, model.nms_thresh, model.detections_per_img = 0.05, 1000, 0.6, 100
    n = len(GT)
    x = torch.rand(n, 3, *SIZE, generator=torch.Generator().manual_seed(92)) * 2 - 1
    with torch.no_grad():
        feats = list(model.backbone(x.double()).values())
    shapes = [tuple(f.shape[2:]) for f in feats]
    out = model.head(feats)
    anchors = model.anchor_generator(ImageList(x.double(), [SIZE] * n), feats)
    targets = [{"boxes": torch.tensor(b, dtype=torch.float64).reshape(-1, 4),
                "labels": torch.tensor(l, dtype=torch.int64)} for b, l in GT]
    per_level_counts = [h * w for h, w in shapes]
    losses = model.compute_loss(targets, out, anchors, per_level_counts)
    sum(losses.values()).backward()
    named = dict(model.head.named_parameters())
    with torch.no_grad():
        split = {k: list(v.split(per_level_counts, dim=1)) for k, v in out.items()}
        split_anchors = [list(a.split(per_level_counts)) for a in anchors]
        dets = model.postprocess_detections(split, split_anchors, [SIZE] * n)
        model.topk_candidates, model.score_thresh = FEW_CANDIDATES, FEW_SCORE
        dets_few = model.postprocess_detections(split, split_anchors, [SIZE] * n)
    tensors = {"x": x}
    for key, name, c in (("cls_logits", "cls", 91), ("bbox_regression", "reg", 4), ("bbox_ctrness", "ctr", 1)):
        for level, t in enumerate(per_level(out[key].detach(), shapes, c)):
            tensors[f"{name}{level}"] = t
    for i, (b, l) in enumerate(GT):
        if b:
            tensors[f"boxes{i}"] = torch.tensor(b)
            tensors[f"labels{i}"] = torch.tensor(l, dtype=torch.float32)
    tensors["loss_cls"] = losses["classification"].detach().reshape(1)
    tensors["loss_bbox"] = losses["bbox_regression"].detach().reshape(1)
    tensors["loss_ctr"] = losses["bbox_ctrness"].detach().reshape(1)
    tensors.update({"grad:head." + p: named[p].grad for p in GRAD_PARAMS})
    attrs = {f"num_dets{i}": len(d["scores"]) for i, d in enumerate(dets)}
    for i, d in enumerate(dets):
        tensors[f"det_boxes{i}"] = d["boxes"]
        tensors[f"det_scores{i}"] = d["scores"]
        tensors[f"det_labels{i}"] = d["labels"].float()
    attrs.update({f"num_few_dets{i}": len(d["scores"]) for i, d in enumerate(dets_few)})
    for i, d in enumerate(dets_few):
        tensors[f"few_det_boxes{i}"] = d["boxes"]
        tensors[f"few_det_scores{i}"] = d["scores"]
        tensors[f"few_det_labels{i}"] = d["labels"].float()
    save("fcos_r50", tensors, num_weights=len(state), num_images=n, num_grads=len(GRAD_PARAMS), **attrs)


# ---- mmdetection's FCOSHead targets and loss (mmdet/models/dense_heads/fcos_head.py, 2.x) ----

MM_STRIDES = [8, 16, 32]
MM_RANGES = [(-1.0, 32.0), (32.0, 64.0), (64.0, 1e8)]
MM_SIZE = (64, 96)
MM_CLASSES = 4
MM_GT = [([[4.0, 6.0, 30.0, 40.0], [20.0, 10.0, 90.0, 60.0], [10.0, 12.0, 26.0, 30.0], [60.0, 30.0, 80.0, 50.0]],
          [0, 3, 2, 1]),
         ([[2.0, 2.0, 94.0, 62.0], [40.0, 20.0, 56.0, 36.0]], [1, 0])]


def mm_points(shapes):
    """MlvlPointGenerator(offset=0.5): (x + 0.5) * stride, row-major, level by level."""
    pts = []
    for (h, w), s in zip(shapes, MM_STRIDES):
        ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                                indexing="ij")
        pts.append(torch.stack(((xs.reshape(-1) + 0.5) * s, (ys.reshape(-1) + 0.5) * s), dim=1))
    return pts


def mm_targets(points, counts, boxes, labels, center_sampling, radius=1.5):
    """_get_target_single: labels (MM_CLASSES = background) and (l, t, r, b) targets of every point."""
    all_pts = torch.cat(points)
    n = all_pts.shape[0]
    ranges = torch.cat([torch.tensor([r], dtype=torch.float64).expand(c, 2) for r, c in zip(MM_RANGES, counts)])
    strides = torch.cat([torch.full((c,), float(s), dtype=torch.float64) for s, c in zip(MM_STRIDES, counts)])
    if len(labels) == 0:
        return torch.full((n,), MM_CLASSES, dtype=torch.int64), torch.zeros(n, 4, dtype=torch.float64)
    gt = torch.tensor(boxes, dtype=torch.float64)
    areas = ((gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1]))[None].expand(n, -1).clone()
    xs, ys = all_pts[:, 0:1], all_pts[:, 1:2]
    bbox_targets = torch.stack((xs - gt[:, 0], ys - gt[:, 1], gt[:, 2] - xs, gt[:, 3] - ys), -1)
    if center_sampling:
        cx, cy = (gt[:, 0] + gt[:, 2]) / 2, (gt[:, 1] + gt[:, 3]) / 2
        r = strides[:, None] * radius
        x_min, y_min = torch.maximum(cx - r, gt[:, 0]), torch.maximum(cy - r, gt[:, 1])
        x_max, y_max = torch.minimum(cx + r, gt[:, 2]), torch.minimum(cy + r, gt[:, 3])
        cb = torch.stack((xs - x_min, ys - y_min, x_max - xs, y_max - ys), -1)
        inside = cb.min(-1).values > 0
    else:
        inside = bbox_targets.min(-1).values > 0
    max_d = bbox_targets.max(-1).values
    in_range = (max_d >= ranges[:, 0:1]) & (max_d <= ranges[:, 1:2])
    areas[~inside] = float("inf")
    areas[~in_range] = float("inf")
    min_area, min_inds = areas.min(dim=1)
    lab = torch.tensor(labels)[min_inds]
    lab[min_area == float("inf")] = MM_CLASSES
    return lab, bbox_targets[torch.arange(n), min_inds]


def mm_loss(cls, reg, ctr, points, counts, center_sampling):
    """FCOSHead.loss on outputs cls [N, K, H, W], reg (exp'ed pixels), ctr per level."""
    n = cls[0].shape[0]
    flat = lambda maps, c: torch.cat([m.permute(0, 2, 3, 1).reshape(n, -1, c) for m in maps], 1).reshape(-1, c)
    f_cls, f_reg, f_ctr = flat(cls, MM_CLASSES), flat(reg, 4), flat(ctr, 1).reshape(-1)
    targets = [mm_targets(points, counts, b, l, center_sampling) for b, l in MM_GT]
    labels = torch.cat([t[0] for t in targets])
    box_t = torch.cat([t[1] for t in targets])
    pts = torch.cat([torch.cat(points)] * n)
    pos = torch.nonzero(labels < MM_CLASSES).reshape(-1)
    num_pos = max(len(pos), 1.0)
    onehot = torch.zeros_like(f_cls)
    onehot[pos, labels[pos]] = 1.0
    loss_cls = sigmoid_focal_loss(f_cls, onehot, alpha=0.25, gamma=2.0, reduction="sum") / num_pos
    t = box_t[pos]
    lr, tb = t[:, [0, 2]], t[:, [1, 3]]
    ctr_t = torch.sqrt((lr.min(-1).values / lr.max(-1).values) * (tb.min(-1).values / tb.max(-1).values))
    denorm = max(float(ctr_t.sum()), 1e-6)
    p = pts[pos]
    d2b = lambda d: torch.stack((p[:, 0] - d[:, 0], p[:, 1] - d[:, 1], p[:, 0] + d[:, 2], p[:, 1] + d[:, 3]), -1)
    giou = generalized_box_iou_loss(d2b(f_reg[pos]), d2b(t), reduction="none", eps=1e-7)
    loss_bbox = (giou * ctr_t).sum() / denorm
    loss_ctr = F.binary_cross_entropy_with_logits(f_ctr[pos], ctr_t, reduction="sum") / num_pos
    return loss_cls, loss_bbox, loss_ctr, len(pos)


def gen_mmdet(save):
    gen = torch.Generator().manual_seed(95)
    shapes = [(MM_SIZE[0] // s, MM_SIZE[1] // s) for s in MM_STRIDES]
    n = len(MM_GT)
    cls = [torch.randn(n, MM_CLASSES, h, w, generator=gen) - 2.0 for h, w in shapes]
    reg = [torch.exp(torch.randn(n, 4, h, w, generator=gen) * 0.5 + 2.5) for h, w in shapes]
    ctr = [torch.randn(n, 1, h, w, generator=gen) for h, w in shapes]
    points = mm_points(shapes)
    counts = [h * w for h, w in shapes]
    tensors, attrs = {}, {}
    for level in range(len(MM_STRIDES)):
        tensors.update({f"cls{level}": cls[level], f"reg{level}": reg[level], f"ctr{level}": ctr[level]})
    for i, (b, l) in enumerate(MM_GT):
        tensors[f"boxes{i}"] = torch.tensor(b)
        tensors[f"labels{i}"] = torch.tensor(l, dtype=torch.float32)
    for setting, sampling in (("plain", False), ("sampling", True)):
        leaves = [[t.double().requires_grad_(True) for t in maps] for maps in (cls, reg, ctr)]
        lc, lb, lt, num_pos = mm_loss(*leaves, points, counts, sampling)
        (lc + lb + lt).backward()
        tensors.update({f"loss_cls_{setting}": lc.detach().reshape(1), f"loss_bbox_{setting}": lb.detach().reshape(1),
                        f"loss_ctr_{setting}": lt.detach().reshape(1)})
        for name, maps in zip(("cls", "reg", "ctr"), leaves):
            for level, t in enumerate(maps):
                tensors[f"d{name}{level}_{setting}"] = t.grad
        attrs[f"num_pos_{setting}"] = num_pos
    save("fcos_mmdet", tensors, **attrs)
