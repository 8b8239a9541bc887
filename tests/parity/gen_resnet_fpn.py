"""ResNet backbone and FPN neck parity cases against torchvision 0.14.

Weights are seeded random with randomised BatchNorm statistics and affine
parameters (so frozen / eval BN matters), exported by tools/export_torchvision.py
under workbench module paths ("backbone.layer1.0.conv1.weight", "neck.inner_blocks.0.0.weight")
into <case>_weights.safetensors, which the C test loads with the checkpoint
loader. References are computed in float64 from the float32 weights and input,
so torch's side carries no float32 rounding.

Cases:
  resnet18_features, resnet50_features: eval mode, x [2,3,96,128] -> c2..c5
  fpn_on_output: FeaturePyramidNetwork + LastLevelP6P7(256, 256) (torchvision RetinaNet)
  fpn_on_input:  FeaturePyramidNetwork + LastLevelP6P7(512, 256) (P6 from C5)
  fpn_maxpool:   FeaturePyramidNetwork + LastLevelMaxPool (P6 = max_pool(P5, 1, 2))
  resnet_train_unfrozen: resnet18 with every stage trainable and norm_eval, gradients of sum(c_k * R_k)
  resnet_fpn_train: resnet18 (frozen_stages 1, trainable BN in train mode) + FPN(64, on_input);
                    outputs and gradients of sum(p_k * R_k), updated running statistics
"""
import collections
import copy
import importlib.util
import os

import torch
import torchvision
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool, LastLevelP6P7

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_torchvision.py")
_spec = importlib.util.spec_from_file_location("export_torchvision", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

FPN_IN = [128, 256, 512]  # resnet18's c3..c5
FPN_SIZES = [(13, 17), (7, 9), (4, 5)]  # odd sizes: upsampling goes to each lateral's own size
TRAIN_GRADS = ["backbone.layer2.0.conv1.weight", "backbone.layer2.0.bn1.weight", "backbone.layer3.1.conv2.weight",
               "backbone.layer4.0.downsample.0.weight", "backbone.layer4.1.bn2.bias",
               "neck.inner_blocks.0.0.weight", "neck.layer_blocks.2.0.bias", "neck.extra_blocks.p6.bias",
               "neck.extra_blocks.p7.weight"]
UNFROZEN_GRADS = ["conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer1.0.bn1.weight",
                  "layer1.1.conv1.weight", "layer1.1.bn1.weight", "layer4.1.conv2.weight"]
TRAIN_STATS = ["backbone.layer2.0.bn1.running_mean", "backbone.layer2.0.bn1.running_var",
               "backbone.layer4.0.downsample.1.running_var",
               "backbone.layer1.0.bn1.running_mean"]  # frozen stage: must stay as loaded


def weights_path(case):
    os.makedirs(os.environ["WB_PARITY_DIR"], exist_ok=True)
    return os.path.join(os.environ["WB_PARITY_DIR"], case + "_weights.safetensors")


def random_resnet(name, seed):
    torch.manual_seed(seed)
    model = getattr(torchvision.models, name)(weights=None)
    export.randomize_batch_norm(model, torch.Generator().manual_seed(seed + 1))
    return model


def random_fpn(seed, out_channels, extra_blocks):
    torch.manual_seed(seed)
    fpn = FeaturePyramidNetwork(FPN_IN, out_channels, extra_blocks=extra_blocks)
    with torch.no_grad():  # torchvision starts biases at zero; random ones get tested too
        for name, p in fpn.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.randn(p.shape) * 0.1)
    return fpn


def resnet_features(model, x):
    """c2..c5 of a torchvision ResNet (its stages before avgpool / fc)."""
    y = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    feats = []
    for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
        y = layer(y)
        feats.append(y)
    return feats


def gen_features(save, name, seed):
    model = random_resnet(name, seed).eval()
    # Kept: the loader must report exactly these num_batches_tracked names as unexpected.
    export.write_safetensors(weights_path(name), export.workbench_names(model.state_dict(), detection=False))
    x = torch.randn(2, 3, 96, 128, generator=torch.Generator().manual_seed(seed + 2))
    with torch.no_grad():
        feats = resnet_features(model.double(), x.double())
    n_tracked = sum(1 for k in model.state_dict() if k.endswith("num_batches_tracked"))
    n_fc = sum(1 for k in model.state_dict() if k.startswith("fc."))
    save(name + "_features", {"x": x, **{f"c{i + 2}": f.float() for i, f in enumerate(feats)}},
         num_weights=len(model.state_dict()) - n_fc - n_tracked, num_batches_tracked=n_tracked)
    return model


def gen_fpn(save, case, seed, extra_blocks, out_channels=256):
    fpn = random_fpn(seed, out_channels, extra_blocks)
    export.write_safetensors(weights_path(case), {"neck." + k: v for k, v in fpn.state_dict().items()})
    gen = torch.Generator().manual_seed(seed + 1)
    inputs = [torch.randn(2, c, h, w, generator=gen) for c, (h, w) in zip(FPN_IN, FPN_SIZES)]
    with torch.no_grad():
        outs = fpn.double()(collections.OrderedDict((str(i), t.double()) for i, t in enumerate(inputs)))
    tensors = {f"c{i + 3}": t for i, t in enumerate(inputs)}
    tensors.update({f"p{i + 3}": o.float() for i, o in enumerate(outs.values())})
    save(case, tensors, num_outs=len(outs))


def gen_train(save, resnet18):
    """resnet18 (weights of resnet18_features) + FPN in training mode."""
    model = resnet18.double().train()
    for frozen in (model.conv1, model.bn1, model.layer1):  # frozen_stages = 1 (mmdetection)
        frozen.eval()
        frozen.requires_grad_(False)
    fpn = random_fpn(31, 64, LastLevelP6P7(512, 64)).double()
    export.write_safetensors(weights_path("resnet_fpn_train"),
                             {"neck." + k: v.float() for k, v in fpn.state_dict().items()})
    gen = torch.Generator().manual_seed(32)
    x = torch.randn(2, 3, 64, 96, generator=gen, dtype=torch.float64)
    feats = resnet_features(model, x)[1:]
    outs = list(fpn(collections.OrderedDict((str(i), f) for i, f in enumerate(feats))).values())
    rs = [torch.randn(o.shape, generator=gen, dtype=torch.float64) for o in outs]
    sum((o * r).sum() for o, r in zip(outs, rs)).backward()
    named = {"backbone." + k: v for k, v in model.named_parameters()}
    named.update({"neck." + k: v for k, v in fpn.named_parameters()})
    buffers = {"backbone." + k: v for k, v in model.named_buffers()}
    tensors = {"x": x.float()}
    tensors.update({f"p{i + 3}": o.detach().float() for i, o in enumerate(outs)})
    tensors.update({f"r{i + 3}": r.float() for i, r in enumerate(rs)})
    tensors.update({"grad:" + n: named[n].grad.float() for n in TRAIN_GRADS})
    tensors.update({"stat:" + n: buffers[n].float() for n in TRAIN_STATS})
    save("resnet_fpn_train", tensors, num_outs=len(outs))


def gen_train_unfrozen(save, resnet18):
    """resnet18 alone, every stage trainable with BN on running statistics (norm_eval, the
    detection default): gradients reach the stem (7x7 conv, max-pool) and layer1."""
    model = copy.deepcopy(resnet18).double().eval()
    x = torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(41), dtype=torch.float64)
    feats = resnet_features(model, x)
    rs = [torch.randn(f.shape, generator=torch.Generator().manual_seed(42 + i), dtype=torch.float64)
          for i, f in enumerate(feats)]
    sum((f * r).sum() for f, r in zip(feats, rs)).backward()
    named = dict(model.named_parameters())
    tensors = {"x": x.float()}
    tensors.update({f"r{i + 2}": r.float() for i, r in enumerate(rs)})
    tensors.update({"grad:backbone." + n: named[n].grad.float() for n in UNFROZEN_GRADS})
    save("resnet_train_unfrozen", tensors)


def generate(save):
    resnet18 = gen_features(save, "resnet18", 100)
    gen_features(save, "resnet50", 200)
    gen_fpn(save, "fpn_on_output", 300, LastLevelP6P7(256, 256))
    gen_fpn(save, "fpn_on_input", 400, LastLevelP6P7(512, 256))
    gen_fpn(save, "fpn_maxpool", 500, LastLevelMaxPool())
    gen_train_unfrozen(save, resnet18)
    gen_train(save, resnet18)
