"""RetinaNet head and full-model parity cases against torchvision 0.14.

Anchors: torchvision's AnchorGenerator rounds its sizes (int(32 * 2 ** (1/3)))
and anchor corners, mmdetection's (retina_head's default, anchor_sizes
"exact") does not. The head case builds mmdetection's anchors and hands them
to torchvision's own compute_loss, which takes anchors as arguments; the
full-model case runs torchvision's own AnchorGenerator, matched by
retina_head's anchor_sizes = "rounded". Everything else (matching, encoding,
focal and L1 losses, decoding, NMS) is torchvision's code.

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
      exist, eval mode, input 2x3x256x384 (a multiple of 128, so that
      torchvision's strides, image size // feature size, are the levels'
      strides). Saved: per-level outputs (flattened as above) and
      postprocess_detections on torchvision's anchors (score 0.05, top 1000
      per level, NMS 0.5, 300 per image). float64.
  retina_ignore{0,1,2}, retina_decoded_{giou,ciou}: the training targets of
      mmdetection's RetinaHead, written out here (torchvision has neither
      ignore regions nor reg_decoded_bbox): MaxIoUAssigner with ignore
      regions (crowd / difficult boxes, ignore_iof_thr), min_pos_iou and
      low-quality matches under three assigner settings; focal loss plus L1
      on encoded deltas, or plus GIoU / CIoU (torchvision's) on boxes decoded
      from the deltas (delta2bbox, dw / dh clamped, some positives in the
      clamp), normalised by the batch's positives. Random head outputs of a
      batch of 3 at 96x128, strides 8..32. Saved: the head config, the
      outputs, the boxes, the losses, their gradients w.r.t. the outputs and
      the assignment of every anchor. float64.
"""
import importlib.util
import math
import os
import types

import torch
import torchvision
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import RetinaNet, RetinaNetHead

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_torchvision.py")
_spec = importlib.util.spec_from_file_location("export_torchvision", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

STRIDES = [8, 16, 32, 64, 128]
RATIOS = [0.5, 1.0, 2.0]
SCALES = [4 * 2 ** (i / 3) for i in range(3)]


def mmdet_anchors(sizes, strides=STRIDES):
    """mmdetection AnchorGenerator (center offset 0, scale_major), in float32:
    per level, rows (y * W + x) * A + a with a = ratio * n_scales + scale."""
    levels = []
    for stride, (h, w) in zip(strides, sizes):
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
        model.head.regression_head.bbox_reg.weight.mul_(0.2)  # deltas of a trained model's size (see REG_GAIN)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    export.write_safetensors(weights_path("retinanet_r50"), export.workbench_names(state, detection=True))
    model = model.double().eval()
    model.score_thresh, model.topk_candidates, model.nms_thresh, model.detections_per_img = 0.05, 1000, 0.5, 300
    x = torch.rand(2, 3, 256, 384, generator=torch.Generator().manual_seed(82)) * 2 - 1
    with torch.no_grad():
        feats = list(model.backbone(x.double()).values())
        out = model.head(feats)
        per_level = [f.shape[2] * f.shape[3] * 9 for f in feats]
        anchors = model.anchor_generator(ImageList(x.double(), [(256, 384)] * 2), feats)
        split = {k: list(v.split(per_level, dim=1)) for k, v in out.items()}
        split_anchors = [list(a.split(per_level)) for a in anchors]
        dets = model.postprocess_detections(split, split_anchors, [(256, 384)] * 2)
    tensors = {"x": x, "cls_logits": out["cls_logits"].float(), "bbox_regression": out["bbox_regression"].float()}
    for i, d in enumerate(dets):
        tensors[f"det_boxes{i}"] = d["boxes"].float()
        tensors[f"det_scores{i}"] = d["scores"].float()
        tensors[f"det_labels{i}"] = d["labels"].float()
    save("retinanet_r50", tensors, num_weights=len(state), num_anchors=sum(per_level), num_dets0=len(dets[0]["scores"]),
         num_dets1=len(dets[1]["scores"]))

# ---- training targets: ignore regions and reg_decoded_bbox (mmdetection) ----

TARGET_STRIDES = [8, 16, 32]
TARGET_SIZES = [(12, 16), (6, 8), (3, 4)]  # a 96x128 input
TARGET_CLASSES = 3
MAX_RATIO = abs(math.log(16 / 1000))
MARGIN = 1e-4  # IoU / IoF distance kept from thresholds and ties, so float32 rounding cannot flip an anchor

# Per image: boxes, labels, ignore flags (crowd / difficult). The coordinates
# were searched so that no IoU / IoF lies within MARGIN of a threshold and
# every box's best anchor is unique (boxes inside several equal anchors tie).
TARGET_GT = [
    # two objects, a crowd region over part of the second, a crowd region alone
    ([[8.4, 13.1, 47.5, 51.3], [57.3, 18.9, 120.4, 70.2], [86.9, 33.0, 124.8, 79.8], [9.7, 60.4, 37.5, 95.3]],
     [0, 2, 1, 0], [0, 0, 1, 1]),
    # only an ignore region
    ([[23.2, 18.1, 72.7, 65.7]], [1], [1]),
    # an object, a thin one (best IoU 0.32: a low-quality match only), one beside a crowd region
    ([[28.2, 36.0, 86.0, 88.3], [70.7, 59.6, 126.6, 67.5], [6.9, 4.6, 29.4, 30.6], [2.3, 17.8, 32.5, 50.2]],
     [1, 2, 0, 2], [0, 0, 0, 1]),
]

ASSIGNERS = [
    dict(pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0.0, match_low_quality=True, ignore_iof_thr=0.5),
    dict(pos_iou_thr=0.6, neg_iou_thr=0.3, min_pos_iou=0.35, match_low_quality=True, ignore_iof_thr=0.25),
    dict(pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0.0, match_low_quality=False, ignore_iof_thr=-1.0),
]


def iof_over_anchors(anchors, regions):
    """[T, R] intersection / anchor area (mmdet bbox_overlaps mode 'iof' with
    the anchors first: MaxIoUAssigner's ignore_wrt_candidates)."""
    lt = torch.max(anchors[:, None, :2], regions[None, :, :2])
    rb = torch.min(anchors[:, None, 2:], regions[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    return inter / ((anchors[:, 2] - anchors[:, 0]) * (anchors[:, 3] - anchors[:, 1]))[:, None]


def assert_clear_of(values, thresholds, what):
    for thr in thresholds:
        close = ((values - thr).abs() < MARGIN) & (values >= 0)
        assert not close.any(), f"{what} within {MARGIN} of {thr}: move the boxes"


def max_iou_assign(anchors, gt, regions, cfg):
    """mmdetection MaxIoUAssigner.assign (gt_max_assign_all): per anchor -1
    ignored, 0 background, g + 1 for box g of gt. One deliberate difference
    (see retina_head/assign.c): without gt, mmdetection makes every anchor
    background; here anchors in ignore regions stay ignored."""
    overlaps = torchvision.ops.box_iou(gt, anchors)
    ignored = torch.zeros(len(anchors), dtype=torch.bool)
    if cfg["ignore_iof_thr"] > 0 and len(regions) > 0:
        ignore_max = iof_over_anchors(anchors, regions).max(dim=1).values
        assert_clear_of(ignore_max, [cfg["ignore_iof_thr"]], "IoF")
        ignored = ignore_max > cfg["ignore_iof_thr"]
        overlaps[:, ignored] = -1
    if len(gt) == 0:
        return torch.where(ignored, -1, 0)
    state = torch.full((len(anchors),), -1, dtype=torch.long)
    max_overlaps, argmax = overlaps.max(dim=0)
    assert_clear_of(max_overlaps, [cfg["neg_iou_thr"], cfg["pos_iou_thr"]], "max IoU")
    state[(max_overlaps >= 0) & (max_overlaps < cfg["neg_iou_thr"])] = 0
    positive = max_overlaps >= cfg["pos_iou_thr"]
    if len(gt) > 1:
        top2 = overlaps.topk(2, dim=0).values
        assert ((top2[0] - top2[1])[positive] > MARGIN).all(), "an anchor nearly ties between two boxes"
    state[positive] = argmax[positive] + 1
    if cfg["match_low_quality"]:
        gt_max = overlaps.max(dim=1).values
        for i in range(len(gt)):
            assert abs(gt_max[i] - cfg["min_pos_iou"]) > MARGIN
            if gt_max[i] >= cfg["min_pos_iou"]:
                assert int((overlaps[i] > gt_max[i] - MARGIN).sum()) == 1, f"box {i}: its best anchor nearly ties"
                state[overlaps[i] == gt_max[i]] = i + 1
    return state


def encode(anchors, boxes, stds):
    """mmdetection bbox2delta (means 0)."""
    pw, ph = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    gw, gh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    d = torch.stack([((boxes[:, 0] + boxes[:, 2]) - (anchors[:, 0] + anchors[:, 2])) * 0.5 / pw,
                     ((boxes[:, 1] + boxes[:, 3]) - (anchors[:, 1] + anchors[:, 3])) * 0.5 / ph,
                     torch.log(gw / pw), torch.log(gh / ph)], dim=1)
    return d / stds


def decode(anchors, deltas, stds):
    """mmdetection delta2bbox (means 0, dw and dh clamped to log(1000/16), no clipping)."""
    d = deltas * stds
    pw, ph = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    cx = (anchors[:, 0] + anchors[:, 2]) * 0.5 + pw * d[:, 0]
    cy = (anchors[:, 1] + anchors[:, 3]) * 0.5 + ph * d[:, 1]
    w = pw * d[:, 2].clamp(-MAX_RATIO, MAX_RATIO).exp()
    h = ph * d[:, 3].clamp(-MAX_RATIO, MAX_RATIO).exp()
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=1)


def flatten_levels(maps, per_anchor):
    return torch.cat([m.permute(0, 2, 3, 1).reshape(m.shape[0], -1, per_anchor) for m in maps], dim=1)


def config_text(assigner, stds, loss_config, decoded):
    keys = "; ".join(f"{k} = {str(v).lower()}" for k, v in assigner.items())
    return (f'num_classes = {TARGET_CLASSES}; feat_channels = 8; stacked_convs = 0; strides = {TARGET_STRIDES}; '
            f'{keys}; target_stds = {stds}; reg_decoded_bbox = {str(decoded).lower()}; '
            f'loss_cls = {{ type = "focal_loss"; reduction = "sum"; }}; loss_bbox = {{ {loss_config} }};')


def gen_targets_case(save, name, assigner, stds, loss_config, box_loss, decoded, clamp_some=False):
    """mmdetection's RetinaHead training loss (normalised by the positives of
    the batch, focal loss alpha 0.25 gamma 2) with the given assigner and box
    loss box_loss(anchors, deltas, gt boxes, stds) of the positives; saved
    with the gradients w.r.t. the head's outputs and, per anchor, the
    assignment: -1 ignored, 0 background, label + 1."""
    gen = torch.Generator().manual_seed(90)
    n_img, a_per_cell = len(TARGET_GT), 9
    cls = [torch.randn(n_img, a_per_cell * TARGET_CLASSES, h, w, generator=gen) * 1.5 - 1 for h, w in TARGET_SIZES]
    reg = [torch.randn(n_img, a_per_cell * 4, h, w, generator=gen) * 0.5 for h, w in TARGET_SIZES]
    anchors = mmdet_anchors(TARGET_SIZES, TARGET_STRIDES).double()
    stds_t = torch.tensor(stds, dtype=torch.float64)
    states, gts, labels = [], [], []
    for boxes, labs, ignore in TARGET_GT:
        boxes, ignore = torch.tensor(boxes, dtype=torch.float64), torch.tensor(ignore, dtype=torch.bool)
        states.append(max_iou_assign(anchors, boxes[~ignore], boxes[ignore], assigner))
        gts.append(boxes[~ignore])
        labels.append(torch.tensor(labs)[~ignore])
    if clamp_some:  # positives whose dw / dh the decode clamps (no gradient there)
        first = torch.nonzero(states[0] > 0).flatten()[:2].tolist()
        flat = flatten_levels(reg, 4)
        flat[0, first[0], 2], flat[0, first[1], 3] = 30.0 / stds[2], -30.0 / stds[3]
        start = 0
        for level, (h, w) in zip(reg, TARGET_SIZES):
            count = h * w * a_per_cell
            level.copy_(flat[:, start:start + count].reshape(n_img, h, w, -1).permute(0, 3, 1, 2))
            start += count
    cls64 = [c.double().requires_grad_(True) for c in cls]
    reg64 = [r.double().requires_grad_(True) for r in reg]
    cls_flat, reg_flat = flatten_levels(cls64, TARGET_CLASSES), flatten_levels(reg64, 4)
    norm = max(sum(int((s > 0).sum()) for s in states), 1)
    loss_cls, loss_bbox = 0, 0
    assignment = torch.zeros(n_img, len(anchors))
    for n, state in enumerate(states):
        pos, valid = state > 0, state >= 0
        matched = state[pos] - 1
        target = torch.zeros(len(anchors), TARGET_CLASSES, dtype=torch.float64)
        target[pos, labels[n][matched]] = 1
        loss_cls = loss_cls + torchvision.ops.sigmoid_focal_loss(cls_flat[n][valid], target[valid], reduction="sum")
        loss_bbox = loss_bbox + box_loss(anchors[pos], reg_flat[n][pos], gts[n][matched], stds_t)
        assignment[n] = torch.where(pos, target.argmax(dim=1) + 1, state.clamp(max=0))
    loss_cls, loss_bbox = loss_cls / norm, loss_bbox / norm
    (loss_cls + loss_bbox).backward()
    tensors = {"assignment": assignment, "loss_cls": loss_cls.detach().reshape(1),
               "loss_bbox": loss_bbox.detach().reshape(1)}
    for i, (boxes, labs, ignore) in enumerate(TARGET_GT):
        tensors[f"boxes{i}"] = torch.tensor(boxes)
        tensors[f"labels{i}"] = torch.tensor(labs, dtype=torch.float32)
        tensors[f"ignore{i}"] = torch.tensor(ignore, dtype=torch.float32)
    for l in range(len(TARGET_SIZES)):
        tensors.update({f"cls{l}": cls[l], f"reg{l}": reg[l], f"grad_cls{l}": cls64[l].grad,
                        f"grad_reg{l}": reg64[l].grad})
    save(name, tensors, head=config_text(assigner, stds, loss_config, decoded), num_pos=norm,
         num_ignored=int(sum(int((s < 0).sum()) for s in states)))


def gen_targets(save):
    def l1_on_deltas(anchors, deltas, gt, stds):
        return (deltas - encode(anchors, gt, stds)).abs().sum()

    for i, assigner in enumerate(ASSIGNERS):
        stds = [0.1, 0.1, 0.2, 0.2] if i == 1 else [1.0, 1.0, 1.0, 1.0]
        gen_targets_case(save, f"retina_ignore{i}", assigner, stds, 'type = "l1"; reduction = "sum";',
                         l1_on_deltas, False)

    def giou_mean_weight2(anchors, deltas, gt, stds):
        return 2.0 * torchvision.ops.generalized_box_iou_loss(decode(anchors, deltas, stds), gt, reduction="sum")

    def ciou(anchors, deltas, gt, stds):
        return torchvision.ops.complete_box_iou_loss(decode(anchors, deltas, stds), gt, reduction="sum")

    gen_targets_case(save, "retina_decoded_giou", ASSIGNERS[0], [0.1, 0.1, 0.2, 0.2],
                     'type = "giou"; eps = 1e-7; loss_weight = 2.0; reduction = "mean";', giou_mean_weight2, True,
                     clamp_some=True)
    gen_targets_case(save, "retina_decoded_ciou", ASSIGNERS[1], [1.0, 1.0, 1.0, 1.0],
                     'type = "ciou"; eps = 1e-7; reduction = "sum";', ciou, True)


# ---- torchvision's anchors at a non-square size: RetinaNet-R18 at 640x480 ----

# He-scaled towers, class logits that spread over every level, box deltas of
# a trained model's size (|delta| < ~2: float32 rounding of the convs moves a
# box by |delta error| * anchor size, so huge random deltas would measure
# nothing but that).
TOWER_GAIN, CLS_GAIN, REG_GAIN, CLS_BIAS = 3.0, 1.0, 0.1, -6.0
# torchvision's postprocess at two score thresholds: 0.05 leaves over 1000
# candidates per image (batched_nms runs NMS per class); the "hi" one, the
# 700th best score of the first image, fewer (batched_nms shifts the classes
# apart and runs one NMS: the "coordinate trick").
HI_RANK = 700


def unflatten(flat, sizes, per_anchor):
    """[N, sum(H*W*A), C] -> per level [N, A*C, H, W], the head's own layout."""
    maps, start = [], 0
    for h, w in sizes:
        count = h * w * 9
        level = flat[:, start:start + count].reshape(flat.shape[0], h, w, 9 * per_anchor)
        maps.append(level.permute(0, 3, 1, 2).contiguous())
        start += count
    return maps


def gen_r18_640x480(save):
    """retinanet_resnet18_fpn (tools/export_torchvision.py, built as torchvision
    builds retinanet_resnet50_fpn), 3 classes, seeded random weights,
    randomised BN, head gains as above. float32
    (as a user runs torchvision; float64 takes a minute here). A batch of a
    640x480 image and a 600x416 one padded to 640x480: the P6 and P7 strides
    are 60 and 120 vertically (480 // 8, 480 // 4), 64 and 128 horizontally,
    and the second image's boxes are clipped to its own size. Saved: the
    input, torchvision's anchors, the head's per-level outputs (our layout)
    and postprocess_detections (top 1000 per level, NMS 0.5, 1000 per image)
    at the SCORE_THRESHOLDS."""
    torch.manual_seed(100)
    model = export.build_model("retinanet_resnet18_fpn", 3)
    export.randomize_batch_norm(model, torch.Generator().manual_seed(101))
    with torch.no_grad():
        for name, p in model.head.named_parameters():
            if name.endswith("weight"):
                p.mul_(TOWER_GAIN if ".conv." in name else (CLS_GAIN if "cls_logits" in name else REG_GAIN))
        model.head.classification_head.cls_logits.bias.copy_(
            torch.randn(27, generator=torch.Generator().manual_seed(102)) * 0.5 + CLS_BIAS)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    export.write_safetensors(weights_path("retinanet_r18_640x480"), export.workbench_names(state, detection=True))
    model = model.eval()
    model.topk_candidates, model.nms_thresh, model.detections_per_img = 1000, 0.5, 1000
    sizes = [(480, 640), (416, 600)]
    x = torch.zeros(2, 3, 480, 640)
    gen = torch.Generator().manual_seed(103)
    for i, (h, w) in enumerate(sizes):
        x[i, :, :h, :w] = torch.rand(3, h, w, generator=gen) * 2 - 1
    with torch.no_grad():
        feats = list(model.backbone(x).values())
        out = model.head(feats)
        level_hw = [tuple(f.shape[2:]) for f in feats]
        per_level = [h * w * 9 for h, w in level_hw]
        anchors = model.anchor_generator(ImageList(x, sizes), feats)
        split = {k: list(v.split(per_level, dim=1)) for k, v in out.items()}
        split_anchors = [list(a.split(per_level)) for a in anchors]
    tensors = {"x": x, "anchors": anchors[0]}
    for l, (c, r) in enumerate(zip(unflatten(out["cls_logits"], level_hw, 3),
                                   unflatten(out["bbox_regression"], level_hw, 4))):
        tensors.update({f"cls{l}": c, f"reg{l}": r})
    attrs = {"num_weights": len(state), "num_anchors": sum(per_level)}
    for i, (h, w) in enumerate(sizes):
        attrs.update({f"h{i}": h, f"w{i}": w})
    hi = float(torch.sigmoid(out["cls_logits"][0]).flatten().topk(HI_RANK).values[-1])
    for key, thr in {"lo": 0.05, "hi": round(hi, 4)}.items():
        model.score_thresh = thr
        dets = model.postprocess_detections(split, split_anchors, sizes)
        attrs[f"score_thr_{key}"] = thr
        for i, d in enumerate(dets):
            tensors.update({f"{key}_boxes{i}": d["boxes"], f"{key}_scores{i}": d["scores"],
                            f"{key}_labels{i}": d["labels"].float()})
            scores = torch.sigmoid(out["cls_logits"][i]).split(per_level)
            attrs[f"{key}_dets{i}"] = len(d["scores"])
            attrs[f"{key}_candidates{i}"] = sum(min(int((s > thr).sum()), model.topk_candidates) for s in scores)
    save("retinanet_r18_640x480", tensors, **attrs)


def generate(save):
    gen_head(save)
    gen_full(save)
    gen_targets(save)
    gen_r18_640x480(save)
