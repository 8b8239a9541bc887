"""Faster R-CNN parity cases against torchvision 0.14's fasterrcnn_resnet50_fpn
(tools/export_faster_rcnn.py: FrozenBatchNorm2d backbone with randomised
statistics, seeded random weights, workbench names). The input is a batch of
two 256x320 images, already normalised: torchvision's transform (resize to
800, normalisation) is bypassed by calling its backbone, rpn and roi_heads
directly, as the workbench pipeline does those steps itself.

Cases:
  faster_rcnn_eval: eval mode. Saved: per-level RPN objectness [N, 3, H, W]
      and deltas [N, 12, H, W] (workbench's layout is torchvision's), the
      1000 proposals per image, the box head's class logits (background
      moved last) and deltas (the background's dropped) on those proposals,
      and the final detections (score 0.05, NMS 0.5, 100 per image). The
      class-logit biases are spread so that detections exist.
  faster_rcnn_train: training mode with deterministic sampling: the
      samplers' batch sizes are larger than any image's candidates, so every
      positive and every negative is taken (the samplers' random choice
      cannot differ); RPN proposals 300 per level before NMS, 100 after.
      Three gt boxes per image, apart from each other so that no anchor is
      the best of one box while overlapping another more (the one point
      where torchvision's and mmdetection's low-quality matching differ).
      Saved: the four losses and the gradients of the box head's weights.
The backbone runs once, without gradient: it has frozen BN, so its features
are the same in both modes, and only the heads' gradients are compared.
"""
import importlib.util
import os

import torch
from torchvision.models.detection.image_list import ImageList

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_faster_rcnn.py")
_spec = importlib.util.spec_from_file_location("export_faster_rcnn", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

H, W = 256, 320
CLASSES = 90
BOXES = [[[20.0, 30.0, 110.0, 100.0], [150.0, 40.0, 230.0, 200.0], [250.0, 150.0, 310.0, 240.0]],
         [[10.5, 160.25, 90.0, 250.0], [120.0, 10.0, 300.0, 120.0], [200.0, 170.0, 260.0, 210.0]]]
LABELS = [[0, 17, 89], [5, 0, 42]]


def weights_path():
    os.makedirs(os.environ["WB_PARITY_DIR"], exist_ok=True)
    return os.path.join(os.environ["WB_PARITY_DIR"], "faster_rcnn_weights.safetensors")


def build():
    torch.manual_seed(120)
    model = export.build(50, CLASSES)
    export.export_torchvision.randomize_batch_norm(model, torch.Generator().manual_seed(121))
    # The random backbone's features are large (|x| ~ 10): output layers
    # scaled to give deltas and logits of a trained model's size, and class
    # biases spread so that some classes pass score 0.05.
    with torch.no_grad():
        model.rpn.head.bbox_pred.weight.mul_(0.02)
        model.rpn.head.cls_logits.weight.mul_(0.1)
        model.roi_heads.box_predictor.cls_score.weight.mul_(0.05)
        model.roi_heads.box_predictor.bbox_pred.weight.mul_(0.05)
        model.roi_heads.box_predictor.cls_score.bias.copy_(
            torch.randn(CLASSES + 1, generator=torch.Generator().manual_seed(122)) * 2.0)
    return model


def background_last(logits, deltas):
    return torch.cat([logits[:, 1:], logits[:, :1]], dim=1), deltas[:, 4:]


def gen_eval(save, model, x, sizes, feats):
    model.eval()
    with torch.no_grad():
        images = ImageList(x, sizes)
        objectness, deltas = model.rpn.head(list(feats.values()))
        proposals, _ = model.rpn(images, feats)
        pooled = model.roi_heads.box_roi_pool(feats, proposals, sizes)
        logits, box_deltas = model.roi_heads.box_predictor(model.roi_heads.box_head(pooled))
        # RoIHeads.forward's eval branch on the box head's outputs above: calling it would run the 12544 x
        # 1024 fc6 on the 2 x 1000 proposals a second time (50 GFLOP, about 40% of this generator's work)
        boxes, scores, labels = model.roi_heads.postprocess_detections(logits, box_deltas, proposals, sizes)
        dets = [{"boxes": b, "scores": s, "labels": l} for b, s, l in zip(boxes, scores, labels)]
    tensors = {"x": x}
    for l, (o, d) in enumerate(zip(objectness, deltas)):
        tensors.update({f"rpn_cls{l}": o, f"rpn_reg{l}": d})
    for i, p in enumerate(proposals):
        tensors[f"proposals{i}"] = p
    tensors["logits"], tensors["deltas"] = background_last(logits, box_deltas)
    attrs = {"num_proposals0": len(proposals[0]), "num_proposals1": len(proposals[1])}
    for i, d in enumerate(dets):
        tensors.update({f"det_boxes{i}": d["boxes"], f"det_scores{i}": d["scores"],
                        f"det_labels{i}": (d["labels"] - 1).float()})  # dataset labels: background removed
        attrs[f"num_dets{i}"] = len(d["scores"])
    save("faster_rcnn_eval", tensors, **attrs)


def gen_train(save, model, x, sizes, feats):
    model.train()
    model.rpn._pre_nms_top_n = dict(training=300, testing=1000)
    model.rpn._post_nms_top_n = dict(training=100, testing=1000)
    model.rpn.fg_bg_sampler.batch_size_per_image = 1000000
    model.roi_heads.fg_bg_sampler.batch_size_per_image = 1000000
    targets = [{"boxes": torch.tensor(b), "labels": torch.tensor(l) + 1} for b, l in zip(BOXES, LABELS)]
    images = ImageList(x, sizes)
    proposals, rpn_losses = model.rpn(images, feats, targets)
    _, roi_losses = model.roi_heads(feats, proposals, sizes, targets)
    losses = {**rpn_losses, **roi_losses}
    sum(losses.values()).backward()
    head = model.roi_heads
    tensors = {
        "grad:head.bbox_head.shared_fcs.0.weight": head.box_head.fc6.weight.grad,
        "grad:head.bbox_head.shared_fcs.0.bias": head.box_head.fc6.bias.grad,
        "grad:head.bbox_head.shared_fcs.1.weight": head.box_head.fc7.weight.grad,
        "grad:head.bbox_head.shared_fcs.1.bias": head.box_head.fc7.bias.grad,
    }
    for name, module in [("fc_cls", head.box_predictor.cls_score), ("fc_reg", head.box_predictor.bbox_pred)]:
        for kind in ["weight", "bias"]:
            tensors[f"grad:head.bbox_head.{name}.{kind}"] = export.background_last(
                f"head.bbox_head.{name}.", getattr(module, kind).grad)
    for i, (b, l) in enumerate(zip(BOXES, LABELS)):
        tensors[f"boxes{i}"] = torch.tensor(b)
        tensors[f"labels{i}"] = torch.tensor(l, dtype=torch.float32)
    for key, name in [("loss_objectness", "loss_rpn_cls"), ("loss_rpn_box_reg", "loss_rpn_bbox"),
                      ("loss_classifier", "loss_cls"), ("loss_box_reg", "loss_bbox")]:
        tensors[name] = losses[key].detach().reshape(1)
    save("faster_rcnn_train", tensors)


def generate(save):
    model = build()
    state = export.workbench_names(model.state_dict())
    export.export_torchvision.write_safetensors(weights_path(), state)
    x = torch.rand(2, 3, H, W, generator=torch.Generator().manual_seed(123)) * 2 - 1
    sizes = [(H, W), (H, W)]
    # Frozen BN: the backbone and FPN give the same features in both modes;
    # computed once, and no gradient flows past them (only the heads' are compared).
    with torch.no_grad():
        feats = model.backbone(x)
    gen_eval(save, model, x, sizes, feats)
    gen_train(save, model, x, sizes, feats)
