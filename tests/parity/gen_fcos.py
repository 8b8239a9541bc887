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
"""
import importlib.util
import os

import torch
from torchvision.models.detection.image_list import ImageList

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


def generate(save):
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
    save("fcos_r50", tensors, num_weights=len(state), num_images=n, num_grads=len(GRAD_PARAMS), **attrs)
