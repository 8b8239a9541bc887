#!/usr/bin/python3
"""Exports a torchvision model's state_dict to a safetensors file (F32, or F16 / BF16 with --dtype).

Runs with Debian's torch and torchvision (/usr/bin/python3); downloads nothing:
weights are seeded random unless a local checkpoint is given with --weights.

  /usr/bin/python3 tools/export_torchvision.py --model resnet50 --out r50.safetensors
  /usr/bin/python3 tools/export_torchvision.py --model retinanet_resnet50_fpn \\
      --weights retinanet.pth --workbench-names --out retinanet.safetensors
  /usr/bin/python3 tools/export_torchvision.py --model retinanet_resnet18_fpn \\
      --num-classes 3 --weights bccd_r18.pth --workbench-names --out r18.safetensors

--model is any classification or detection model torchvision names, or a
ResNet-FPN detector at any depth, DETECTOR_BACKBONE_fpn: DETECTOR one of
retinanet, fcos, fasterrcnn, maskrcnn, keypointrcnn and BACKBONE any torchvision
ResNet (resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d,
wide_resnet50_2, ...). It is built as torchvision's DETECTOR_resnet50_fpn
builds its own: resnet_fpn_backbone with the same returned layers and extra
FPN blocks (RetinaNet and FCOS: C3-C5 and P6, P7 from P5; the R-CNNs: C2-C5
and a max-pooled P6), the default anchors and heads, BatchNorm layers (a
checkpoint trained with a frozen-BN backbone loads into them unchanged).

Names are torchvision's exactly ("layer1.0.conv1.weight", "backbone.body.conv1.weight").
--workbench-names renames them to the module paths of a workbench model:
  classification models:  conv1.weight            -> backbone.conv1.weight (fc.* dropped)
  detection models:       backbone.body.<name>    -> backbone.<name>
                          backbone.fpn.<name>     -> neck.<name>
                          head.<name>             -> head.<name> (unchanged)
  --res5-head (a C4 Faster R-CNN: backbone out_indices ending at layer3, roi_head bbox_head = "res5"):
                          layer4.<name>           -> head.res5.<name>
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
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.ops.feature_pyramid_network import LastLevelP6P7


# How torchvision's DETECTOR_resnet50_fpn builders put a ResNet under their
# FPN (torchvision/models/detection/*.py): the model class, the ResNet stages
# returned to the FPN, and the FPN's extra levels.
RESNET_FPN_DETECTORS = {
    "retinanet": ("RetinaNet", [2, 3, 4], lambda: LastLevelP6P7(256, 256)),
    "fcos": ("FCOS", [2, 3, 4], lambda: LastLevelP6P7(256, 256)),
    "fasterrcnn": ("FasterRCNN", [1, 2, 3, 4], lambda: None),
    "maskrcnn": ("MaskRCNN", [1, 2, 3, 4], lambda: None),
    "keypointrcnn": ("KeypointRCNN", [1, 2, 3, 4], lambda: None),
}
DEFAULT_DETECTION_CLASSES = {"keypointrcnn": 2}


def resnet_fpn_detector(name, num_classes):
    """DETECTOR_BACKBONE_fpn built as torchvision builds DETECTOR_resnet50_fpn;
    None when name is not of that form."""
    detector, _, rest = name.partition("_")
    backbone = rest[:-len("_fpn")] if rest.endswith("_fpn") else None
    if detector not in RESNET_FPN_DETECTORS or not backbone:
        return None
    if not hasattr(torchvision.models.resnet, backbone):
        known = [n for n in torchvision.models.resnet.__all__ if n[0].islower() and "resne" in n]
        raise SystemExit(f"export_torchvision: '{backbone}' in '{name}' is no torchvision ResNet; "
                         f"known: {', '.join(known)}")
    cls_name, returned, extra = RESNET_FPN_DETECTORS[detector]
    fpn = resnet_fpn_backbone(backbone_name=backbone, weights=None, norm_layer=torch.nn.BatchNorm2d,
                              trainable_layers=5, returned_layers=returned, extra_blocks=extra())
    classes = num_classes if num_classes is not None else DEFAULT_DETECTION_CLASSES.get(detector, 91)
    return getattr(torchvision.models.detection, cls_name)(fpn, num_classes=classes)


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
    model = resnet_fpn_detector(name, num_classes)
    if model is None:
        raise SystemExit(f"export_torchvision: torchvision has no model named '{name}' (nor is it "
                         f"DETECTOR_BACKBONE_fpn with DETECTOR one of {', '.join(RESNET_FPN_DETECTORS)})")
    return model


def is_detection(name):
    return hasattr(torchvision.models.detection, name) or name.partition("_")[0] in RESNET_FPN_DETECTORS


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


def workbench_names(state_dict, detection, res5_head=False):
    """torchvision names -> workbench module paths (see the module docstring)."""
    renamed = {}
    for key, value in state_dict.items():
        if res5_head and key.startswith("layer4."):
            renamed["head.res5." + key[len("layer4."):]] = value
            continue
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


DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def write_safetensors(path, tensors, metadata=None, dtype="F32"):
    """Writes name -> tensor as safetensors of dtype F32, F16 or BF16 (little
    endian, as the format requires), atomically (temp file + rename)."""
    header, blobs, offset = {}, [], 0
    for name, value in tensors.items():
        stored = value.detach().to(DTYPES[dtype]).contiguous().cpu()
        # numpy has no bfloat16: either half type is written as its 16-bit patterns
        bits = stored.numpy().astype("<f4") if dtype == "F32" else stored.view(torch.int16).numpy().astype("<i2")
        raw = bits.tobytes()
        header[name] = {"dtype": dtype, "shape": list(value.shape), "data_offsets": [offset, offset + len(raw)]}
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
    ap.add_argument("--model", required=True,
                    help="torchvision model name (resnet50, retinanet_resnet50_fpn, ...) or a ResNet-FPN detector "
                         "at any depth (retinanet_resnet18_fpn, fasterrcnn_resnet34_fpn, ...)")
    ap.add_argument("--out", required=True, help="safetensors file to write")
    ap.add_argument("--random-seed", type=int, default=0, help="seed of the random weights (default 0)")
    ap.add_argument("--weights", help="local .pth state_dict to load instead of random weights")
    ap.add_argument("--num-classes", type=int, help="classes of the model's classifier / detection head")
    ap.add_argument("--randomize-bn", action="store_true",
                    help="random BN statistics and affine parameters (for parity tests)")
    ap.add_argument("--workbench-names", action="store_true", help="rename to workbench module paths")
    ap.add_argument("--res5-head", action="store_true",
                    help="with --workbench-names: layer4.* -> head.res5.* (roi_head's bbox_head = \"res5\" of a C4 model)")
    ap.add_argument("--drop-num-batches-tracked", action="store_true", help="leave out BN step counters")
    ap.add_argument("--dtype", choices=list(DTYPES), default="F32",
                    help="stored dtype (default F32); workbench's load_from widens F16 and BF16 to float32")
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
        state = workbench_names(state, is_detection(args.model), args.res5_head)
    write_safetensors(args.out, state, {"source": f"torchvision {torchvision.__version__} {args.model}",
                                        "seed": args.random_seed if not args.weights else "none"}, args.dtype)
    print(f"{args.out}: {len(state)} tensors from torchvision's {args.model}")


if __name__ == "__main__":
    main(sys.argv[1:])
