#!/usr/bin/python3
"""Exports a torchvision Faster R-CNN (ResNet-FPN) to a safetensors file with
workbench's parameter names, for `load_from` in an experiment whose head is
a roi_head (plugins/heads/roi_head) with an rpn_head sub-module.

Runs with Debian's torch and torchvision (/usr/bin/python3); downloads
nothing: weights are seeded random unless --weights names a local
torchvision state_dict.

  /usr/bin/python3 tools/export_faster_rcnn.py --depth 50 --out frcnn_r50.safetensors
  /usr/bin/python3 tools/export_faster_rcnn.py --depth 18 --num-classes 3 \\
      --weights bccd_frcnn_r18.pth --out frcnn_r18.safetensors

--num-classes counts the dataset's classes (workbench's num_classes); the
torchvision model has one more, its background, at index 0. Names:
  backbone.body.<name>                  -> backbone.<name>
  backbone.fpn.<name>                   -> neck.<name>
  rpn.head.conv.0.0.*                   -> head.rpn.rpn_conv.*
  rpn.head.cls_logits.*                 -> head.rpn.rpn_cls.*
  rpn.head.bbox_pred.*                  -> head.rpn.rpn_reg.*
  roi_heads.box_head.fc6.* / fc7.*      -> head.bbox_head.shared_fcs.0.* / 1.*
  roi_heads.box_predictor.cls_score.*   -> head.bbox_head.fc_cls.* (background row moved last)
  roi_heads.box_predictor.bbox_pred.*   -> head.bbox_head.fc_reg.* (the background's 4 rows dropped)
The workbench head reproduces torchvision's with these settings (see
configs/faster_rcnn/ and tests/unit/test_faster_rcnn_parity.c): rpn
anchor_sizes = "rounded", min_bbox_size = 1e-3; roi_levels =
"torchvision", aligned = false, sampling_ratio = 2, box_coder =
"torchvision", min_bbox_size = 0.01; the backbone with frozen BN
(norm_eval) as torchvision's FrozenBatchNorm2d.
"""
import argparse
import importlib.util
import os
import sys

import torch
import torchvision
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "export_torchvision.py")
_spec = importlib.util.spec_from_file_location("export_torchvision", _TOOL)
export_torchvision = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_torchvision)

RENAMES = [
    ("backbone.body.", "backbone."),
    ("backbone.fpn.", "neck."),
    ("rpn.head.conv.0.0.", "head.rpn.rpn_conv."),
    ("rpn.head.cls_logits.", "head.rpn.rpn_cls."),
    ("rpn.head.bbox_pred.", "head.rpn.rpn_reg."),
    ("roi_heads.box_head.fc6.", "head.bbox_head.shared_fcs.0."),
    ("roi_heads.box_head.fc7.", "head.bbox_head.shared_fcs.1."),
    ("roi_heads.box_predictor.cls_score.", "head.bbox_head.fc_cls."),
    ("roi_heads.box_predictor.bbox_pred.", "head.bbox_head.fc_reg."),
]


def build(depth, num_classes):
    """torchvision's fasterrcnn_resnet50_fpn at any ResNet depth, with frozen
    BN (FrozenBatchNorm2d, as pretrained detectors run), num_classes + 1
    outputs (background first)."""
    backbone = resnet_fpn_backbone(backbone_name=f"resnet{depth}", weights=None,
                                   norm_layer=torchvision.ops.misc.FrozenBatchNorm2d, trainable_layers=5)
    return FasterRCNN(backbone, num_classes=num_classes + 1)


def background_last(name, value):
    """torchvision's predictor has the background first and deltas for it;
    workbench's has it last and none."""
    if name.startswith("head.bbox_head.fc_cls."):
        return torch.cat([value[1:], value[:1]])
    if name.startswith("head.bbox_head.fc_reg."):
        return value[4:]
    return value


def workbench_names(state_dict):
    renamed = {}
    for key, value in state_dict.items():
        if key.endswith("num_batches_tracked"):
            continue
        for old, new in RENAMES:
            if key.startswith(old):
                key = new + key[len(old):]
                break
        else:
            raise SystemExit(f"export_faster_rcnn: no workbench name for torchvision's '{key}'")
        renamed[key] = background_last(key, value)
    return renamed


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=50, choices=[18, 34, 50, 101, 152], help="ResNet depth (default 50)")
    ap.add_argument("--num-classes", type=int, default=90, help="dataset classes, no background (default 90: COCO)")
    ap.add_argument("--out", required=True, help="safetensors file to write")
    ap.add_argument("--random-seed", type=int, default=0, help="seed of the random weights (default 0)")
    ap.add_argument("--weights", help="local torchvision .pth state_dict to load instead of random weights")
    ap.add_argument("--randomize-bn", action="store_true", help="random frozen-BN statistics (for parity tests)")
    args = ap.parse_args(argv)
    torch.manual_seed(args.random_seed)
    model = build(args.depth, args.num_classes)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    if args.randomize_bn:
        export_torchvision.randomize_batch_norm(model, torch.Generator().manual_seed(args.random_seed + 1))
    state = workbench_names(model.state_dict())
    export_torchvision.write_safetensors(args.out, state, {
        "source": f"torchvision {torchvision.__version__} fasterrcnn_resnet{args.depth}_fpn",
        "seed": args.random_seed if not args.weights else "none"})
    print(f"{args.out}: {len(state)} tensors from torchvision's Faster R-CNN R-{args.depth}-FPN")


if __name__ == "__main__":
    main(sys.argv[1:])
