#!/usr/bin/python3
"""Exports a torchvision model's state_dict to a safetensors file (F32).

Runs with Debian's torch and torchvision (/usr/bin/python3); downloads nothing:
weights are seeded random unless a local checkpoint is given with --weights.

  /usr/bin/python3 tools/export_torchvision.py --model resnet50 --out r50.safetensors
  /usr/bin/python3 tools/export_torchvision.py --model retinanet_resnet50_fpn \\
      --weights retinanet.pth --workbench-names --out retinanet.safetensors

Names are torchvision's exactly ("layer1.0.conv1.weight", "backbone.body.conv1.weight").
--workbench-names renames them to the module paths of a workbench model:
  classification models:  conv1.weight            -> backbone.conv1.weight (fc.* dropped)
  detection models:       backbone.body.<name>    -> backbone.<name>
                          backbone.fpn.<name>     -> neck.<name>
                          head.<name>             -> head.<name> (unchanged)
A torchvision-trained RetinaNet gives torchvision's detections with its own
anchors: set the head's anchor_sizes = "rounded" (and the neck's
add_extra_convs = "on_output", relu_before_extra_convs = true), then
load_from = "retinanet.safetensors".
num_batches_tracked buffers are exported as float32 like everything else; the
workbench BN has no such buffer, so its checkpoint loader reports them as
unexpected (--drop-num-batches-tracked leaves them out).
"""
import argparse
import json
import os
import struct
import sys

import torch
import torchvision


def build_model(name, num_classes=None):
    """A torchvision model by name, with no pretrained weights (no download)."""
    kwargs = {"weights": None}
    if hasattr(torchvision.models.detection, name):
        kwargs["weights_backbone"] = None
        if num_classes is not None:
            kwargs["num_classes"] = num_classes
        return getattr(torchvision.models.detection, name)(**kwargs)
    if hasattr(torchvision.models, name):
        if num_classes is not None:
            kwargs["num_classes"] = num_classes
        return getattr(torchvision.models, name)(**kwargs)
    raise SystemExit(f"export_torchvision: torchvision has no model named '{name}'")


def is_detection(name):
    return hasattr(torchvision.models.detection, name)


def randomize_batch_norm(model, generator):
    """Random affine parameters and running statistics in every BatchNorm
    (plain or frozen), so that parity checks depend on them."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.BatchNorm2d, torchvision.ops.FrozenBatchNorm2d)):
                c = module.running_mean.numel()
                module.weight.copy_(torch.rand(c, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(c, generator=generator) * 0.1)
                module.running_mean.copy_(torch.randn(c, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(c, generator=generator) + 0.5)


def workbench_names(state_dict, detection):
    """torchvision names -> workbench module paths (see the module docstring)."""
    renamed = {}
    for key, value in state_dict.items():
        if detection:
            if key.startswith("backbone.body."):
                key = "backbone." + key[len("backbone.body."):]
            elif key.startswith("backbone.fpn."):
                key = "neck." + key[len("backbone.fpn."):]
        else:
            if key.startswith("fc."):
                continue  # the classifier is not part of a detection backbone
            key = "backbone." + key
        renamed[key] = value
    return renamed


def write_safetensors(path, tensors, metadata=None):
    """Writes name -> tensor as F32 safetensors, atomically (temp file + rename)."""
    header, blobs, offset = {}, [], 0
    for name, value in tensors.items():
        raw = value.detach().to(torch.float32).contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="torchvision model name: resnet50, retinanet_resnet50_fpn, ...")
    ap.add_argument("--out", required=True, help="safetensors file to write")
    ap.add_argument("--random-seed", type=int, default=0, help="seed of the random weights (default 0)")
    ap.add_argument("--weights", help="local .pth state_dict to load instead of random weights")
    ap.add_argument("--num-classes", type=int, help="classes of the model's classifier / detection head")
    ap.add_argument("--randomize-bn", action="store_true",
                    help="random BN statistics and affine parameters (for parity tests)")
    ap.add_argument("--workbench-names", action="store_true", help="rename to workbench module paths")
    ap.add_argument("--drop-num-batches-tracked", action="store_true", help="leave out BN step counters")
    args = ap.parse_args(argv)

    torch.manual_seed(args.random_seed)
    model = build_model(args.model, args.num_classes)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    if args.randomize_bn:
        randomize_batch_norm(model, torch.Generator().manual_seed(args.random_seed + 1))
    state = model.state_dict()
    if args.drop_num_batches_tracked:
        state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    if args.workbench_names:
        state = workbench_names(state, is_detection(args.model))
    write_safetensors(args.out, state, {"source": f"torchvision {torchvision.__version__} {args.model}",
                                        "seed": args.random_seed if not args.weights else "none"})
    print(f"{args.out}: {len(state)} tensors from torchvision's {args.model}")


if __name__ == "__main__":
    main(sys.argv[1:])
