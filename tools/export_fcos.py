#!/usr/bin/python3
"""Exports torchvision 0.14's FCOS (any ResNet depth) to a safetensors file under
workbench module paths, for configs/fcos/*.conf (resnet + fpn + fcos_head).

Runs with Debian's torch and torchvision (/usr/bin/python3); downloads nothing:
weights are seeded random unless a local state_dict is given with --weights.

  /usr/bin/python3 tools/export_fcos.py --depth 50 --out fcos_r50.safetensors
  /usr/bin/python3 tools/export_fcos.py --depth 18 --num-classes 3 --weights fcos_r18.pth --out r18.safetensors

The model is torchvision's FCOS as fcos_resnet50_fpn builds it (C3-C5, an FPN
with P6, P7 from P5 after a ReLU, FCOSHead with GroupNorm(32)), with BatchNorm
layers; --randomize-bn gives its BN layers random statistics and affine
parameters (parity tests: eval mode uses them, so they must be right).
Names: backbone.body.* -> backbone.*, backbone.fpn.* -> neck.*, head.* -> head.*
(fcos_head keeps torchvision's names). The matching workbench model:
  backbone = { type = "resnet"; depth = D; out_indices = [1, 2, 3]; norm = "bn"; };
  neck = { type = "fpn"; num_outs = 5; add_extra_convs = "on_output"; relu_before_extra_convs = true; };
  head = { type = "fcos_head"; num_classes = K; };
--scales adds mmdetection's per-level Scale parameters (head.scales.<l>.scale = 1,
which torchvision's FCOS does not have) for a head with scale_per_level = true.
"""
import argparse
import importlib.util
import os
import sys

import torch

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "export_torchvision.py")
_spec = importlib.util.spec_from_file_location("export_torchvision", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

RESNET_DEPTHS = {18: "resnet18", 34: "resnet34", 50: "resnet50", 101: "resnet101", 152: "resnet152"}


def build(depth, num_classes, seed, randomize_bn):
    """torchvision's FCOS on a ResNet of this depth, seeded random (BN statistics randomised if asked)."""
    torch.manual_seed(seed)
    model = export.build_model(f"fcos_{RESNET_DEPTHS[depth]}_fpn", num_classes)
    if randomize_bn:
        export.randomize_batch_norm(model, torch.Generator().manual_seed(seed + 1))
    return model


def workbench_state(model, scales=False):
    """The state_dict under workbench module paths, without BN step counters."""
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    state = export.workbench_names(state, detection=True)
    if scales:
        for level in range(len(model.anchor_generator.sizes)):
            state[f"head.scales.{level}.scale"] = torch.ones(1)
    return state


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, choices=sorted(RESNET_DEPTHS), default=50, help="ResNet depth (default 50)")
    ap.add_argument("--num-classes", type=int, default=91, help="classes of the head (torchvision's COCO: 91)")
    ap.add_argument("--out", required=True, help="safetensors file to write")
    ap.add_argument("--random-seed", type=int, default=0, help="seed of the random weights (default 0)")
    ap.add_argument("--weights", help="local .pth state_dict of the same FCOS to load instead of random weights")
    ap.add_argument("--randomize-bn", action="store_true", help="random BN statistics and affine parameters")
    ap.add_argument("--scales", action="store_true", help="add head.scales.<l>.scale = 1 (scale_per_level)")
    args = ap.parse_args(argv)
    model = build(args.depth, args.num_classes, args.random_seed, args.randomize_bn)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    state = workbench_state(model, args.scales)
    export.write_safetensors(args.out, state, {"source": f"torchvision FCOS ResNet-{args.depth}",
                                               "seed": args.random_seed if not args.weights else "none"})
    print(f"{args.out}: {len(state)} tensors of torchvision's FCOS ResNet-{args.depth}, {args.num_classes} classes")


if __name__ == "__main__":
    main(sys.argv[1:])
