"""RetinaNet head and full-model parity cases against torchvision 0.14.

Anchors: torchvision's AnchorGenerator rounds its sizes (int(32 * 2 ** (1/3)))
and anchor corners, mmdetection's (which retina_head implements) does not, so
the anchors here are built with mmdetection's AnchorGenerator formula and
handed to torchvision's own compute_loss and postprocess_detections, which
take anchors as arguments. Everything else (matching, encoding, focal and L1
losses, decoding, NMS) is torchvision's code.

Cases:
  retina_head: RetinaNetHead(64 channels, 9 anchors, 5 classes), seeded random
      weights and biases, random features of a 128x160 image at strides
      8..128, batch 2. Saved: head outputs as torchvision flattens them
      ([N, sum(H*W*A), K] and [N, sum(H*W*A), 4]), the two losses of
      RetinaNet.compute_loss (Matcher 0.5/0.4 with low-quality matches,
      BoxCoder weights 1, focal loss and L1 each summed / foreground per image,
      averaged over images), the gradients of their sum and the weights after
      one SGD step (lr 0.01, momentum 0.9, weight decay 1e-4). float64.
  retinanet_r50: retinanet_resnet50_fpn (91 classes), seeded random weights,
      BN statistics randomised, class-logit biases spread so that detections
      exist, eval mode, input 2x3x256x320. Saved: per-level outputs (flattened
      as above) and postprocess_detections (score 0.05, top 1000 per level,
      NMS 0.5, 300 per image). float64.
"""
import importlib.util
import math
import os
import types

import torch
import torchvision
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.retinanet import RetinaNet, RetinaNetHead

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_torchvision.py")
_spec = importlib.util.spec_from_file_location("export_torchvision", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

STRIDES = [8, 16, 32, 64, 128]
RATIOS = [0.5, 1.0, 2.0]
SCALES = [4 * 2 ** (i / 3) for i in range(3)]


def mmdet_anchors(sizes):
    """mmdetection AnchorGenerator (center offset 0, scale_major), in float32:
    per level, rows (y * W + x) * A + a with a = ratio * n_scales + scale."""
    levels = []
    for stride, (h, w) in zip(STRIDES, sizes):
        ratios = torch.tensor(RATIOS, dtype=torch.float32)
        scales = torch.tensor(SCALES, dtype=torch.float32)
        h_ratios = torch.sqrt(ratios)
        w_ratios = 1 / h_ratios
        ws = (stride * w_ratios[:, None] * scales[None, :]).reshape(-1)
        hs = (stride * h_ratios[:, None] * scales[None, :]).reshape(-1)
        base = torch.stack([-0.5 * ws, -0.5 * hs, 0.5 * ws, 0.5 * hs], dim=-1)
        sx = torch.arange(w, dtype=torch.float32) * stride
        sy = torch.arange(h, dtype=torch.float32) * stride
        yy, xx = torch.meshgrid(sy, sx, indexing="ij")
        shifts = torch.stack([xx.reshape(-1), yy.reshape(-1), xx.reshape(-1), yy.reshape(-1)], dim=-1)
        levels.append((shifts[:, None, :] + base[None, :, :]).reshape(-1, 4))
    return torch.cat(levels)


def weights_path(case):
    os.makedirs(os.environ["WB_PARITY_DIR"], exist_ok=True)
    return os.path.join(os.environ["WB_PARITY_DIR"], case + "_weights.safetensors")


def level_sizes(h, w):
    sizes = [(math.ceil(h / 8), math.ceil(w / 8))]
    for _ in STRIDES[1:]:
        ph, pw = sizes[-1]
        sizes.append(((ph - 1) // 2 + 1, (pw - 1) // 2 + 1))  # 3x3 conv, stride 2, padding 1
    return sizes


def gen_head(save):
    torch.manual_seed(70)
    head = RetinaNetHead(64, 9, 5)
    with torch.no_grad():
        for name, p in head.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.randn(p.shape) * 0.1 + (-2.0 if "cls_logits" in name else 0.0))
            else:
                p.copy_(torch.randn(p.shape) * 0.05)
    export.write_safetensors(weights_path("retina_head"), {"head." + k: v for k, v in head.state_dict().items()})
    gen = torch.Generator().manual_seed(71)
    sizes = level_sizes(128, 160)
    feats = [torch.randn(2, 64, h, w, generator=gen) for h, w in sizes]
    boxes = [torch.tensor([[10.0, 12.0, 50.0, 60.0], [70.0, 20.0, 150.0, 90.0], [20.0, 90.0, 44.0, 118.0]]),
             torch.tensor([[30.5, 40.25, 100.0, 120.0], [120.0, 8.0, 140.0, 30.0]])]
    labels = [torch.tensor([0, 3, 4]), torch.tensor([2, 0])]
    anchors = mmdet_anchors(sizes).double()

    head = head.double()
    out = head([f.double() for f in feats])
    model = types.SimpleNamespace(proposal_matcher=det_utils.Matcher(0.5, 0.4, allow_low_quality_matches=True),
                                  head=head)
    targets = [{"boxes": b.double(), "labels": l} for b, l in zip(boxes, labels)]
    losses = RetinaNet.compute_loss(model, targets, out, [anchors, anchors])
    (losses["classification"] + losses["bbox_regression"]).backward()
    matched = [model.proposal_matcher(torchvision.ops.box_iou(t["boxes"], anchors)) for t in targets]
    optim = torch.optim.SGD(head.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    grads = {"grad:head." + k: p.grad.float() for k, p in head.named_parameters()}
    optim.step()
    tensors = {f"x{i}": f for i, f in enumerate(feats)}
    tensors.update({"cls_logits": out["cls_logits"].detach().float(),
                    "bbox_regression": out["bbox_regression"].detach().float(),
                    "anchors": anchors.float(),
                    "loss_cls": losses["classification"].detach().float().reshape(1),
                    "loss_bbox": losses["bbox_regression"].detach().float().reshape(1)})
    for i, (b, l) in enumerate(zip(boxes, labels)):
        tensors[f"boxes{i}"] = b
        tensors[f"labels{i}"] = l.float()
    tensors.update(grads)
    tensors.update({"updated:head." + k: p.detach().float() for k, p in head.named_parameters()})
    save("retina_head", tensors, num_pos0=int((matched[0] >= 0).sum()), num_pos1=int((matched[1] >= 0).sum()))


def gen_full(save):
    torch.manual_seed(80)
    model = torchvision.models.detection.retinanet_resnet50_fpn(weights=None, weights_backbone=None)
    export.randomize_batch_norm(model, torch.Generator().manual_seed(81))
    with torch.no_grad():  # logits spread around logit(0.05) so that some anchors pass score_thresh
        model.head.classification_head.cls_logits.bias.copy_(torch.randn(819) * 0.7 - 3.5)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    export.write_safetensors(weights_path("retinanet_r50"), export.workbench_names(state, detection=True))
    model = model.double().eval()
    model.score_thresh, model.topk_candidates, model.nms_thresh, model.detections_per_img = 0.05, 1000, 0.5, 300
    x = torch.rand(2, 3, 256, 320, generator=torch.Generator().manual_seed(82)) * 2 - 1
    with torch.no_grad():
        feats = list(model.backbone(x.double()).values())
        out = model.head(feats)
        per_level = [f.shape[2] * f.shape[3] * 9 for f in feats]
        anchors = mmdet_anchors([tuple(f.shape[2:]) for f in feats]).double()
        split = {k: list(v.split(per_level, dim=1)) for k, v in out.items()}
        split_anchors = [list(anchors.split(per_level))] * 2
        dets = model.postprocess_detections(split, split_anchors, [(256, 320)] * 2)
    tensors = {"x": x, "cls_logits": out["cls_logits"].float(), "bbox_regression": out["bbox_regression"].float()}
    for i, d in enumerate(dets):
        tensors[f"det_boxes{i}"] = d["boxes"].float()
        tensors[f"det_scores{i}"] = d["scores"].float()
        tensors[f"det_labels{i}"] = d["labels"].float()
    save("retinanet_r50", tensors, num_weights=len(state), num_dets0=len(dets[0]["scores"]),
         num_dets1=len(dets[1]["scores"]))


def generate(save):
    gen_head(save)
    gen_full(save)
