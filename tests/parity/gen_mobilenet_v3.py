"""MobileNetV3 backbone parity cases against torchvision 0.14.

Seeded random weights with randomised BatchNorm statistics and affine
parameters and random SE biases, saved under workbench module paths
("backbone.features.4.block.2.fc1.weight") into <case>_weights.safetensors.
References are computed in float64 from the float32 weights and input.

Cases:
  mnv3_large_features: mobilenet_v3_large, eval, x [2,3,64,96] -> features[1], [4], the expansion
                       (block.0 activation) of features[6], features[12], features[16]
  mnv3_small_features: mobilenet_v3_small(width_mult=0.75), eval, x [1,3,72,56] -> features[0], [3], [8], [12]
  mnv3_small_train:    the same Small in training mode (batch statistics, momentum 0.01): outputs,
                       gradients of sum(f_k * R_k) and the updated running statistics
"""
import importlib.util
import os

import torch
import torchvision

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_torchvision.py")
_spec = importlib.util.spec_from_file_location("export_torchvision", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

TRAIN_GRADS = ["features.0.0.weight", "features.1.block.1.fc1.weight", "features.1.block.1.fc2.bias",
               "features.4.block.0.1.weight", "features.4.block.1.0.weight", "features.9.block.3.1.weight",
               "features.12.0.weight"]
TRAIN_STATS = ["features.0.1.running_mean", "features.4.block.1.1.running_var", "features.12.1.running_mean"]


def random_mobilenet(name, seed, **kwargs):
    torch.manual_seed(seed)
    model = getattr(torchvision.models, name)(weights=None, **kwargs)
    gen = torch.Generator().manual_seed(seed + 1)
    export.randomize_batch_norm(model, gen)
    with torch.no_grad():  # torchvision starts conv biases at zero; random ones get tested too
        for pname, p in model.named_parameters():
            if ".fc" in pname and pname.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    return model


def save_weights(case, model):
    path = os.path.join(os.environ["WB_PARITY_DIR"], case + "_weights.safetensors")
    os.makedirs(os.environ["WB_PARITY_DIR"], exist_ok=True)
    state = {"backbone." + k: v for k, v in model.state_dict().items() if k.startswith("features.")}
    export.write_safetensors(path, state)
    return sum(1 for k in state if not k.endswith("num_batches_tracked")), \
        sum(1 for k in state if k.endswith("num_batches_tracked"))


def features(model, x, indices, expansion=()):
    """features[i] outputs (or their block.0 activation for i in expansion) in order."""
    taps, outs = {}, []
    hooks = [model.features[i].block[0].register_forward_hook(lambda m, a, y, i=i: taps.__setitem__(i, y))
             for i in expansion]
    y = x
    for i, layer in enumerate(model.features[:max(indices) + 1]):
        y = layer(y)
        if i in indices:
            outs.append(taps[i] if i in expansion else y)
    for h in hooks:
        h.remove()
    return outs


def gen_eval(save, case, model, x, indices, expansion=()):
    n_weights, n_tracked = save_weights(case, model)
    with torch.no_grad():
        outs = features(model.eval().double(), x.double(), indices, expansion)
    tensors = {"x": x}
    tensors.update({f"f{k}": o.float() for k, o in enumerate(outs)})
    save(case, tensors, num_weights=n_weights, num_batches_tracked=n_tracked, num_outs=len(outs))


def gen_train(save, model):
    model = model.double().train()
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(61), dtype=torch.float64)
    outs = features(model, x, [0, 3, 8, 12])
    rs = [torch.randn(o.shape, generator=torch.Generator().manual_seed(62 + k), dtype=torch.float64)
          for k, o in enumerate(outs)]
    sum((o * r).sum() for o, r in zip(outs, rs)).backward()
    named, buffers = dict(model.named_parameters()), dict(model.named_buffers())
    tensors = {"x": x.float()}
    tensors.update({f"f{k}": o.detach().float() for k, o in enumerate(outs)})
    tensors.update({f"r{k}": r.float() for k, r in enumerate(rs)})
    tensors.update({"grad:backbone." + n: named[n].grad.float() for n in TRAIN_GRADS})
    tensors.update({"stat:backbone." + n: buffers[n].float() for n in TRAIN_STATS})
    save("mnv3_small_train", tensors, num_outs=len(outs))


def generate(save):
    large = random_mobilenet("mobilenet_v3_large", 700)
    gen_eval(save, "mnv3_large_features", large, torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(7)),
             [1, 4, 6, 12, 16], expansion=(6,))
    small = random_mobilenet("mobilenet_v3_small", 800, width_mult=0.75)
    gen_eval(save, "mnv3_small_features", small, torch.randn(1, 3, 72, 56, generator=torch.Generator().manual_seed(8)),
             [0, 3, 8, 12])
    gen_train(save, small)
