"""CSPDarknet backbone and YOLOv5 PAFPN neck parity cases against YOLOv5's own code.

YOLOv5 is the `yolov5` package from PyPI (7.0.x), which scripts/setup.sh installs with --no-deps into a
virtual environment that sees Debian's torch; tools/export_yolov5.py finds and imports it, builds
yolov5n.yaml / yolov5s.yaml with seeded random weights, randomises BN (affine parameters and running
statistics) and writes <model>_weights.safetensors under workbench names. Without the package, the only
case written is yolov5_unavailable (attribute `reason`), and the C test reports itself skipped.

References are computed in float64 from the float32 weights and inputs. The features are the inputs
of YOLOv5's Detect layer (model.24), taken with a forward pre-hook.

Cases, for <m> in yolov5n, yolov5s:
  <m>_eval_rect:   eval mode, x [1,3,320,256] -> p3, p4, p5
  <m>_eval_square: eval mode, x [1,3,256,256]
  <m>_train:       train mode (batch statistics, momentum 0.03), x [2,3,128,160] -> p3..p5, and after
                   backward of sum(p_k * r_k): "grad:<name>" gradients and "stat:<name>" running statistics
  yolov5_shapes_<v> for v in n, s, m, l, x: "shape:<name>" holds the shape of every backbone and neck
                   tensor of YOLOv5's yolov5<v>.yaml (YOLOv5's channel and depth rounding)
"""
import copy
import glob
import importlib.util
import os

import torch

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_yolov5.py")
_spec = importlib.util.spec_from_file_location("export_yolov5", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

MODELS = {"yolov5n": 10, "yolov5s": 20}  # name -> seed
TRAIN_GRADS = ["backbone.stem.conv.weight", "backbone.stem.bn.weight", "backbone.stage1.1.blocks.0.conv2.bn.weight",
               "backbone.stage2.1.main_conv.conv.weight", "backbone.stage4.2.conv1.conv.weight",
               "backbone.stage4.2.conv2.bn.bias", "neck.reduce_layers.2.conv.weight",
               "neck.top_down_layers.0.0.blocks.0.conv1.conv.weight", "neck.top_down_layers.1.final_conv.bn.bias",
               "neck.downsample_layers.0.conv.weight", "neck.bottom_up_layers.1.short_conv.bn.weight"]
TRAIN_STATS = ["backbone.stem.bn.running_mean", "backbone.stem.bn.running_var",
               "backbone.stage3.1.short_conv.bn.running_var", "backbone.stage4.2.conv2.bn.running_mean",
               "neck.top_down_layers.0.1.bn.running_var", "neck.bottom_up_layers.1.final_conv.bn.running_mean"]


def parity_dir():
    out = os.environ["WB_PARITY_DIR"]
    os.makedirs(out, exist_ok=True)
    return out


def detect_inputs(model, x):
    """Runs YOLOv5's forward and returns what its Detect layer received."""
    seen = []
    hook = model.model[-1].register_forward_pre_hook(lambda module, args: seen.append(list(args[0])))
    try:
        model(x)
    finally:
        hook.remove()
    return seen[0]


def gen_eval(save, model, name, case, shape, seed):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        feats = detect_inputs(copy.deepcopy(model).double().eval(), x.double())
    save(f"{name}_{case}", {"x": x, **{f"p{i + 3}": f.float() for i, f in enumerate(feats)}})


def gen_train(save, model, name, seed):
    model = copy.deepcopy(model).double().train()
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, 128, 160, generator=gen, dtype=torch.float64)
    feats = detect_inputs(model, x)
    rs = [torch.randn(f.shape, generator=gen, dtype=torch.float64) for f in feats]
    sum((f * r).sum() for f, r in zip(feats, rs)).backward()
    named = {export.workbench_name(k, model.model): v for k, v in model.named_parameters()}
    buffers = {export.workbench_name(k, model.model): v for k, v in model.named_buffers()}
    tensors = {"x": x.float()}
    tensors.update({f"p{i + 3}": f.detach().float() for i, f in enumerate(feats)})
    tensors.update({f"r{i + 3}": r.float() for i, r in enumerate(rs)})
    tensors.update({"grad:" + n: named[n].grad.float() for n in TRAIN_GRADS})
    tensors.update({"stat:" + n: buffers[n].float() for n in TRAIN_STATS})
    save(f"{name}_train", tensors)


def gen_shapes(save, yolov5, variant):
    """Names and shapes only: the weights of m, l and x are never written."""
    state = export.workbench_state(export.parse_layers(yolov5, f"yolov5{variant}.yaml"))
    save(f"yolov5_shapes_{variant}", {"shape:" + k: torch.tensor(list(v.shape), dtype=torch.float32)
                                      for k, v in state.items()})


def generate(save):
    marker = os.path.join(parity_dir(), "yolov5_unavailable.safetensors")
    yolov5, why = export.import_yolov5()
    if yolov5 is None:
        # Stale cases of an earlier run must not stand in for YOLOv5's code.
        for path in glob.glob(os.path.join(parity_dir(), "yolov5*.safetensors")):
            os.remove(path)
        save("yolov5_unavailable", {}, reason=why)
        print(f"gen_yolov5: YOLOv5 parity cases not written: {why}")
        return
    if os.path.exists(marker):
        os.remove(marker)
    for name, seed in MODELS.items():
        model = export.build_model(yolov5, name + ".yaml", seed)
        calibration = torch.randn(2, 3, 128, 128, generator=torch.Generator().manual_seed(seed + 2))
        export.randomize_batch_norm(model, torch.Generator().manual_seed(seed + 1), calibration)
        model.eval()
        export.write_safetensors(os.path.join(parity_dir(), name + "_weights.safetensors"),
                                 export.workbench_state(model.model))
        gen_eval(save, model, name, "eval_rect", (1, 3, 320, 256), seed + 3)
        gen_eval(save, model, name, "eval_square", (1, 3, 256, 256), seed + 4)
        gen_train(save, model, name, seed + 5)
    for variant in "nsmlx":
        gen_shapes(save, yolov5, variant)
