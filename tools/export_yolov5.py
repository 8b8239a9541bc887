#!/usr/bin/python3
"""Exports a YOLOv5 v6.x / 7.0 model (backbone, neck and Detect head) to a safetensors file under workbench names.

The model is YOLOv5's own (the `yolov5` package from PyPI, 7.0.x), built from one of the yamls it ships
(yolov5n.yaml, yolov5s.yaml, yolov5m.yaml, yolov5l.yaml, yolov5x.yaml) or a yaml path, with seeded random
weights (PyTorch's default init, as YOLOv5 trains from scratch). Nothing is downloaded.

  /usr/bin/python3 tools/export_yolov5.py --cfg yolov5s.yaml --out yolov5s.safetensors
  /usr/bin/python3 tools/export_yolov5.py --cfg yolov5n.yaml --randomize-bn --random-seed 3 --out n.safetensors
  /usr/bin/python3 tools/export_yolov5.py --cfg yolov5n.yaml --num-classes 3 --out n_bccd.safetensors

The package is imported from wherever this interpreter finds it, else from the virtual environment
that scripts/setup.sh makes ($WB_YOLOV5_VENV, default ~/.cache/workbench/yolov5-venv), which sees
Debian's torch:
  /usr/bin/python3 -m venv --system-site-packages ~/.cache/workbench/yolov5-venv
  ~/.cache/workbench/yolov5-venv/bin/pip install --no-deps yolov5==7.0.10

Names are MMYOLO's (its yolov5_to_mmyolo converter gives the same), which are the module paths of a
workbench model with backbone `cspdarknet` and neck `yolov5_pafpn`:
  model.0                      -> backbone.stem
  model.1, 3, 5, 7             -> backbone.stage1..4.0        (Conv 3x3/2)
  model.2, 4, 6, 8             -> backbone.stage1..4.1        (C3)
  model.9                      -> backbone.stage4.2           (SPPF)
  model.10                     -> neck.reduce_layers.2
  model.13, 14                 -> neck.top_down_layers.0.0, .0.1
  model.17                     -> neck.top_down_layers.1
  model.18, 21                 -> neck.downsample_layers.0, .1
  model.20, 23                 -> neck.bottom_up_layers.0, .1
and inside the blocks: C3 cv1 / cv2 / cv3 / m.<j> -> main_conv / short_conv / final_conv / blocks.<j>,
Bottleneck and SPPF cv1 / cv2 -> conv1 / conv2; Conv's conv / bn keep their names. Detect (model.24) is the
head `yolov5_head`:
  model.24.m.<i>               -> head.head_module.convs_pred.<i>   (MMYOLO's YOLOv5HeadModule)
  model.24.anchors             -> head.anchors                      (in pixels: YOLOv5 keeps them in grid units)
(--no-head leaves it out). The BN step counters (num_batches_tracked) are not exported: workbench has no use
for them.
"""
import argparse
import glob
import importlib.util
import logging
import os
import sys

import torch

VERSION = "7.0.10"  # the release scripts/setup.sh installs: later 7.0.x import the ultralytics package

LAYER_NAMES = {
    0: "backbone.stem", 1: "backbone.stage1.0", 2: "backbone.stage1.1", 3: "backbone.stage2.0",
    4: "backbone.stage2.1", 5: "backbone.stage3.0", 6: "backbone.stage3.1", 7: "backbone.stage4.0",
    8: "backbone.stage4.1", 9: "backbone.stage4.2", 10: "neck.reduce_layers.2", 13: "neck.top_down_layers.0.0",
    14: "neck.top_down_layers.0.1", 17: "neck.top_down_layers.1", 18: "neck.downsample_layers.0",
    20: "neck.bottom_up_layers.0", 21: "neck.downsample_layers.1", 23: "neck.bottom_up_layers.1",
}
DETECT_LAYER = 24
# Sub-module renames by the YOLOv5 class of a layer (the first dotted part of a name inside it).
BLOCK_NAMES = {"C3": {"cv1": "main_conv", "cv2": "short_conv", "cv3": "final_conv", "m": "blocks"},
               "SPPF": {"cv1": "conv1", "cv2": "conv2"}}
BOTTLENECK_NAMES = {"cv1": "conv1", "cv2": "conv2"}


def default_venv():
    return os.environ.get("WB_YOLOV5_VENV") or os.path.join(os.path.expanduser("~"), ".cache", "workbench",
                                                            "yolov5-venv")


def import_yolov5():
    """The yolov5 package, or (None, why) when neither this interpreter nor the venv has it."""
    if importlib.util.find_spec("yolov5") is None:
        venv = default_venv()
        site_dirs = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages"))
        if not site_dirs:
            return None, (f"no yolov5 package here and no virtual environment at {venv} "
                          f"(make it with scripts/setup.sh, or point WB_YOLOV5_VENV at one)")
        sys.path.append(site_dirs[0])
        if importlib.util.find_spec("yolov5") is None:
            return None, f"the virtual environment {venv} has no yolov5 package (rerun scripts/setup.sh)"
    try:
        import yolov5
        import yolov5.models.yolo  # noqa: F401
    except ImportError as e:
        return None, f"the yolov5 package does not import: {e} (scripts/setup.sh installs what it needs)"
    logging.getLogger("yolov5").setLevel(logging.WARNING)  # no model summaries (its import set INFO)
    if not yolov5.__version__.startswith("7.0."):
        return None, f"yolov5 {yolov5.__version__} is installed; these names are YOLOv5 7.0's (want {VERSION})"
    return yolov5, None


def model_yaml(yolov5, cfg):
    """A yaml shipped in the package's models/ dir by file name, else a path."""
    shipped = os.path.join(os.path.dirname(yolov5.__file__), "models", cfg)
    return shipped if os.path.exists(shipped) else cfg


def build_model(yolov5, cfg, seed, num_classes=None):
    """YOLOv5's DetectionModel from a yaml, with seeded random weights."""
    torch.manual_seed(seed)
    return yolov5.models.yolo.Model(model_yaml(yolov5, cfg), ch=3, nc=num_classes)


def randomize_batch_norm(model, generator, calibration):
    """Random BN affine parameters, and running statistics near the batch
    statistics of `calibration` (a train-mode pass with momentum 1) but
    randomly off (mean by 0.1 standard deviation, variance by a factor in
    [0.8, 1.25]): every running statistic matters while eval-mode features
    grow only to a few hundred through the ~60 layers (with statistics that
    are simply random they reach 1e4, where beta and the means vanish below
    float32 precision)."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    momenta = [bn.momentum for bn in bns]
    with torch.no_grad():
        for bn in bns:
            c = bn.num_features
            bn.weight.copy_(torch.rand(c, generator=generator) + 0.5)
            bn.bias.copy_(torch.randn(c, generator=generator) * 0.1)
            bn.momentum = 1.0
        was_training = model.training
        model.train()
        model(calibration)
        model.train(was_training)
        for bn, momentum in zip(bns, momenta):
            c = bn.num_features
            bn.running_mean.add_(torch.randn(c, generator=generator) * 0.1 * bn.running_var.sqrt())
            bn.running_var.mul_(torch.rand(c, generator=generator) * 0.45 + 0.8)
            bn.momentum = momentum


def parse_layers(yolov5, cfg):
    """The layers of a yaml (YOLOv5's parse_model: its channel and depth rounding) without the
    Detect stride probe that building the whole model runs."""
    import yaml
    with open(model_yaml(yolov5, cfg)) as f:
        return yolov5.models.yolo.parse_model(yaml.safe_load(f), ch=[3])[0]


def head_name(parts):
    """Detect's tensors: m.<i>.weight -> head.head_module.convs_pred.<i>.weight, anchors -> head.anchors."""
    if parts[2] == "anchors":
        return "head.anchors"
    if parts[2] != "m":
        raise SystemExit(f"export_yolov5: {'.'.join(parts)} is not a tensor of YOLOv5 7.0's Detect")
    return ".".join(["head.head_module.convs_pred"] + parts[3:])


def workbench_name(yolov5_name, layers, head=False):
    """"model.2.m.0.cv1.conv.weight" -> "backbone.stage1.1.blocks.0.conv1.conv.weight" given the
    model's layers (DetectionModel.model); None for the BN step counters, and for Detect unless head."""
    parts = yolov5_name.split(".")
    if parts[0] != "model" or parts[-1] == "num_batches_tracked":
        return None
    layer = int(parts[1])
    if layer == DETECT_LAYER:
        return head_name(parts) if head else None
    if layer not in LAYER_NAMES:
        raise SystemExit(f"export_yolov5: {yolov5_name} is in layer {layer}, which has no parameters in YOLOv5 "
                         f"v6.x's yolov5*.yaml (Upsample and Concat): is this another architecture?")
    inner = parts[2:]
    renames = BLOCK_NAMES.get(type(layers[layer]).__name__, {})
    if inner and inner[0] in renames:
        if inner[0] == "m":  # m.<j>.cv1 -> blocks.<j>.conv1
            inner = ["blocks", inner[1], BOTTLENECK_NAMES[inner[2]]] + inner[3:]
        else:
            inner = [renames[inner[0]]] + inner[1:]
    return ".".join([LAYER_NAMES[layer]] + inner)


def workbench_state(layers, head=False):
    """The backbone and neck tensors of YOLOv5's layers (DetectionModel.model) under workbench names, and
    with head those of Detect, whose anchors (grid units once the model is built) become pixels."""
    state = {}
    for key, value in layers.state_dict().items():
        name = workbench_name("model." + key, layers, head)
        if name == "head.anchors":
            detect = layers[DETECT_LAYER]
            if detect.stride is None:
                raise SystemExit("export_yolov5: Detect has no strides (export the head from a built model)")
            value = value * detect.stride.to(value.dtype).view(-1, 1, 1)
        if name is not None:
            state[name] = value
    return state


def write_safetensors(path, tensors, metadata=None):
    """As export_torchvision.py writes them (F32, atomically)."""
    tools = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("export_torchvision", os.path.join(tools, "export_torchvision.py"))
    export = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export)
    export.write_safetensors(path, tensors, metadata)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cfg", default="yolov5s.yaml",
                    help="model yaml: a file name shipped with the yolov5 package (yolov5n.yaml .. yolov5x.yaml) "
                         "or a path (default yolov5s.yaml)")
    ap.add_argument("--out", required=True, help="safetensors file to write")
    ap.add_argument("--random-seed", type=int, default=0, help="seed of the random weights (default 0)")
    ap.add_argument("--randomize-bn", action="store_true",
                    help="random BN affine parameters and running statistics (for parity tests)")
    ap.add_argument("--num-classes", type=int, default=None,
                    help="classes of the Detect head (default: the yaml's nc, 80)")
    ap.add_argument("--no-head", action="store_true", help="export the backbone and neck only")
    args = ap.parse_args(argv)

    yolov5, why = import_yolov5()
    if yolov5 is None:
        raise SystemExit(f"export_yolov5: {why}")
    model = build_model(yolov5, args.cfg, args.random_seed, args.num_classes)
    if args.randomize_bn:
        calibration = torch.randn(2, 3, 128, 128, generator=torch.Generator().manual_seed(args.random_seed + 2))
        randomize_batch_norm(model, torch.Generator().manual_seed(args.random_seed + 1), calibration)
    state = workbench_state(model.model, head=not args.no_head)
    write_safetensors(args.out, state, {"source": f"yolov5 {yolov5.__version__} {args.cfg}",
                                        "seed": args.random_seed})
    gd, gw = model.yaml["depth_multiple"], model.yaml["width_multiple"]
    head = "" if args.no_head else (f" and head {{ type = \"yolov5_head\"; num_classes = "
                                    f"{model.model[DETECT_LAYER].nc}; }}")
    print(f"{args.out}: {len(state)} tensors of YOLOv5's {args.cfg}; build it with "
          f"backbone {{ type = \"cspdarknet\"; deepen_factor = {gd}; widen_factor = {gw}; }}, "
          f"neck {{ type = \"yolov5_pafpn\"; deepen_factor = {gd}; }}{head}")


if __name__ == "__main__":
    main(sys.argv[1:])
