"""YOLOv5's optimisation recipe, step by step, for tests/unit/test_yolov5_recipe.c.

The loop is train.py's (YOLOv5 7.0) with the data replaced by given numbers: nominal batch nbs 64 and
accumulate = max(round(nbs / batch_size), 1), weight_decay *= batch_size * accumulate / nbs, three
parameter groups (smart_optimizer: biases, weights with decay, norm weights without; SGD nesterov), the
lambda lf (linear, or one_cycle for --cos-lr) under LambdaLR stepped once per epoch, the warmup over
nw = max(round(warmup_epochs * nb), 100) iterations (np.interp of accumulate, of every group's lr from 0, the
biases' from warmup_bias_lr, and of the momentum), optimizer.zero_grad() at every epoch start, a step when
ni - last_opt_step >= accumulate with clip_grad_norm_(max_norm=10), and ModelEMA updated after each step.
--freeze is emulated with its prefix rule (requires_grad False for names containing "backbone.stem.").

smart_optimizer and ModelEMA come from the yolov5 package when scripts/setup.sh's venv has it (attribute
yolov5_code 1); otherwise from the transcriptions below (yolov5_code 0), which are the same few lines.

"Backward" of iteration ni adds the given gradient grad<ni>.<name> to every trainable parameter (autograd
accumulates into .grad the same way) and "forward" sets the BN running statistics to stat<ni>.<name>.
References run in float64 from float32 inputs. Per case yolov5_recipe_<case>:
  init.<name>                  parameters and buffers before training (the EMA starts from them)
  grad<ni>.<name>, stat<ni>.<name>
  lr  [iters, 3]               lr of groups (biases, weights with decay, norm weights) used at iteration ni
  momentum [iters], accumulate [iters], stepped [iters] (1 where the optimizer stepped after ni)
  step<k>.<name>, ema<k>.<name>  parameters and EMA (parameters and buffers) after the k-th step
  attributes: nb, epochs, batch_size, nbs, lr0, lrf, momentum_final, weight_decay, warmup_epochs,
  warmup_momentum, warmup_bias_lr, cos_lr, ema_decay, ema_tau, steps, clipped (steps whose norm was clipped)
"""
import importlib.util
import math
import os

import numpy as np
import torch
from torch import nn

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_yolov5.py")
_spec = importlib.util.spec_from_file_location("export_yolov5", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

FREEZE = ["backbone.stem."]
MAX_NORM = 10.0  # train.py's clip_grad_norm_


class ConvBN(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, bias=False)
        self.bn = nn.BatchNorm2d(cout)


class Tiny(nn.Module):
    """Parameters named and shaped like a detector's: conv + BN stages, a conv with bias, a linear layer."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.stem = ConvBN(3, 4, 1)
        self.backbone.stage1 = nn.Sequential(ConvBN(4, 4, 3))
        self.neck = nn.Module()
        self.neck.fc = nn.Linear(4, 3)
        self.head = nn.Module()
        self.head.convs_pred = nn.Sequential(nn.Conv2d(4, 6, 1))


def smart_optimizer_transcribed(model, lr, momentum, decay):
    g = [], [], []
    bn = tuple(v for k, v in nn.__dict__.items() if 'Norm' in k)
    for v in model.modules():
        for p_name, p in v.named_parameters(recurse=0):
            if p_name == 'bias':
                g[2].append(p)
            elif p_name == 'weight' and isinstance(v, bn):
                g[1].append(p)
            else:
                g[0].append(p)
    optimizer = torch.optim.SGD(g[2], lr=lr, momentum=momentum, nesterov=True)
    optimizer.add_param_group({'params': g[0], 'weight_decay': decay})
    optimizer.add_param_group({'params': g[1], 'weight_decay': 0.0})
    return optimizer


class ModelEMATranscribed:
    def __init__(self, model, decay=0.9999, tau=2000, updates=0):
        import copy
        self.ema = copy.deepcopy(model).eval()
        self.updates = updates
        self.decay = lambda x: decay * (1 - math.exp(-x / tau))

    def update(self, model):
        self.updates += 1
        d = self.decay(self.updates)
        msd = model.state_dict()
        for k, v in self.ema.state_dict().items():
            if v.dtype.is_floating_point:
                v *= d
                v += (1 - d) * msd[k].detach()


def recipe_code():
    yolov5, _ = export.import_yolov5()
    if yolov5 is None:
        return smart_optimizer_transcribed, ModelEMATranscribed, 0
    from yolov5.utils.torch_utils import ModelEMA, smart_optimizer
    return (lambda model, lr, momentum, decay: smart_optimizer(model, 'SGD', lr, momentum, decay)), ModelEMA, 1


def run(save, case, nb, epochs, batch_size, warmup_epochs, cos_lr, lrf, ema_decay, ema_tau, seed):
    make_optimizer, make_ema, from_yolov5 = recipe_code()
    hyp = {"lr0": 0.01, "lrf": lrf, "momentum": 0.937, "weight_decay": 0.0005, "warmup_epochs": warmup_epochs,
           "warmup_momentum": 0.8, "warmup_bias_lr": 0.1}
    gen = torch.Generator().manual_seed(seed)
    model = Tiny().double()
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                v.copy_(torch.rand(v.shape, generator=gen) + 0.5 if "running_var" in k else torch.randn(v.shape, generator=gen))
    init = {k: v.clone().float() for k, v in model.state_dict().items() if v.dtype.is_floating_point}
    for k, v in model.named_parameters():
        v.requires_grad = not any(x in k for x in FREEZE)
    trainable = [k for k, v in model.named_parameters() if v.requires_grad]
    buffers = [k for k, v in model.named_buffers() if v.dtype.is_floating_point]

    nbs = 64
    accumulate = max(round(nbs / batch_size), 1)
    hyp['weight_decay'] *= batch_size * accumulate / nbs
    optimizer = make_optimizer(model, hyp['lr0'], hyp['momentum'], hyp['weight_decay'])
    if cos_lr:
        lf = lambda x: ((1 - math.cos(x * math.pi / epochs)) / 2) * (hyp['lrf'] - 1) + 1  # one_cycle(1, lrf)
    else:
        lf = lambda x: (1 - x / epochs) * (1.0 - hyp['lrf']) + hyp['lrf']
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lf)
    ema = make_ema(model, decay=ema_decay, tau=ema_tau)

    nw = max(round(hyp['warmup_epochs'] * nb), 100)
    last_opt_step = -1
    tensors = {"init." + k: v for k, v in init.items()}
    lrs, momenta, accs, stepped = [], [], [], []
    steps = clipped = 0
    params = dict(model.named_parameters())
    state = model.state_dict()
    for epoch in range(epochs):
        optimizer.zero_grad()
        for i in range(nb):
            ni = i + nb * epoch
            if ni <= nw:
                xi = [0, nw]
                accumulate = max(1, np.interp(ni, xi, [1, nbs / batch_size]).round())
                for j, x in enumerate(optimizer.param_groups):
                    x['lr'] = np.interp(ni, xi, [hyp['warmup_bias_lr'] if j == 0 else 0.0, x['initial_lr'] * lf(epoch)])
                    if 'momentum' in x:
                        x['momentum'] = np.interp(ni, xi, [hyp['warmup_momentum'], hyp['momentum']])
            # "forward": the running statistics this iteration's batch leaves
            for k in buffers:
                stat = torch.rand(state[k].shape, generator=gen) + 0.5 if "running_var" in k \
                    else torch.randn(state[k].shape, generator=gen)
                tensors[f"stat{ni}.{k}"] = stat
                state[k].copy_(stat.double())
            # "backward": gradients of varying size, so that some summed groups pass max_norm and some do not
            scale = 0.05 + 0.6 * torch.rand((), generator=gen).item()
            for k in trainable:
                g = (torch.randn(params[k].shape, generator=gen) * scale).float()
                tensors[f"grad{ni}.{k}"] = g
                params[k].grad = g.double() if params[k].grad is None else params[k].grad + g.double()
            lrs.append([x['lr'] for x in optimizer.param_groups])
            momenta.append(optimizer.param_groups[0]['momentum'])
            accs.append(accumulate)
            if ni - last_opt_step >= accumulate:
                norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=MAX_NORM)
                clipped += int(norm > MAX_NORM)
                optimizer.step()
                optimizer.zero_grad()
                ema.update(model)
                last_opt_step = ni
                for k, v in model.named_parameters():
                    tensors[f"step{steps}.{k}"] = v.detach().clone()
                for k, v in ema.ema.state_dict().items():
                    if v.dtype.is_floating_point:
                        tensors[f"ema{steps}.{k}"] = v.clone()
                steps += 1
                stepped.append(1)
            else:
                stepped.append(0)
        scheduler.step()
    assert 0 < clipped < steps, f"{case}: {clipped} of {steps} steps clipped; the case should clip some, not all"
    tensors.update({"lr": torch.tensor(lrs), "momentum": torch.tensor(momenta), "accumulate": torch.tensor(accs),
                    "stepped": torch.tensor(stepped, dtype=torch.float32)})
    save("yolov5_recipe_" + case, tensors, nb=nb, epochs=epochs, batch_size=batch_size, nbs=nbs, lr0=hyp['lr0'],
         lrf=hyp['lrf'], momentum_final=hyp['momentum'], weight_decay=0.0005, warmup_epochs=warmup_epochs,
         warmup_momentum=hyp['warmup_momentum'], warmup_bias_lr=hyp['warmup_bias_lr'], cos_lr=int(cos_lr),
         ema_decay=ema_decay, ema_tau=ema_tau, steps=steps, clipped=clipped, yolov5_code=from_yolov5)


def generate(save):
    # Linear lf; nw = max(round(2.0 * 40), 100) = 100 ends inside epoch 2; accumulate ramps 1 -> round(3.2) = 3
    # and 40 is no multiple of 3, so epoch ends drop gradients. ModelEMA's defaults.
    run(save, "linear", nb=40, epochs=5, batch_size=20, warmup_epochs=2.0, cos_lr=False, lrf=0.1,
        ema_decay=0.9999, ema_tau=2000, seed=1)
    # one_cycle lf; nw = round(3.3 * 37) = 122 (more than 100); accumulate ramps 1 -> round(2.67) = 3;
    # a short EMA ramp (tau 20) so that the averages differ clearly from the weights.
    run(save, "cos", nb=37, epochs=4, batch_size=24, warmup_epochs=3.3, cos_lr=True, lrf=0.2,
        ema_decay=0.99, ema_tau=20, seed=2)
