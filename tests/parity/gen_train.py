"""Torch references for the optimizers (tests/unit/test_train.c).

A small set of named parameters shaped like a detector's (conv weights, norm
weights and biases, conv biases, a linear weight) is updated for STEPS steps
by torch.optim.SGD / AdamW with a different lr each step and given gradients.
Parameter groups are written out by hand from mmcv's DefaultOptimizerConstructor
rules for the paramwise config the C test uses:

    weight_decay 0.05, norm_decay_mult 0.0, bias_decay_mult 0.5,
    custom: "backbone" (lr 0.1, decay 1.0), "backbone.bn" (lr 0.5, decay 0.0),
            "head.*.bias" glob (lr 2.0, decay 0.0)

(a custom rule, the longest matching one, replaces the norm / bias rules).
Case `optim_<name>` holds `init.<param>`, `grad<k>.<param>`, `final.<param>`
and `lrs`. The sgd_accum case has two gradients per step (`grad<k>a`,
`grad<k>b`) and torch steps on their mean, as gradient accumulation over 2
iterations does with loss / 2.
"""
import torch

STEPS = 5
WD = 0.05
PARAMS = [  # name, shape, lr_mult, weight decay (hand-derived from the rules above)
    ("backbone.conv.weight", (4, 3, 3, 3), 0.1, WD * 1.0),   # "backbone"
    ("backbone.bn.weight", (4,), 0.5, 0.0),                   # "backbone.bn" is longer than "backbone"
    ("backbone.bn.bias", (4,), 0.5, 0.0),
    ("head.conv.weight", (2, 4, 1, 1), 1.0, WD),              # no rule, not a norm
    ("head.conv.bias", (2,), 2.0, 0.0),                       # glob "head.*.bias"
    ("head.bn.weight", (2,), 1.0, WD * 0.0),                  # norm_decay_mult
    ("head.cls.weight", (3, 2), 1.0, WD),
    ("neck.lateral.bias", (3,), 1.0, WD * 0.5),               # bias_decay_mult (no custom rule)
]
LRS = [0.1, 0.05, 0.02, 0.08, 0.03]


def run(save, name, make_opt, accum=1):
    g = torch.Generator().manual_seed(len(name))
    init = {n: torch.randn(shape, generator=g) for n, shape, _, _ in PARAMS}
    grads = [[{n: torch.randn(shape, generator=g) for n, shape, _, _ in PARAMS} for _ in range(accum)]
             for _ in range(STEPS)]
    params = {n: init[n].double().clone().requires_grad_(True) for n in init}
    groups = [{"params": [params[n]], "lr": LRS[0] * m, "weight_decay": wd, "lr_mult": m}
              for n, _, m, wd in PARAMS]
    opt = make_opt(groups)
    for k in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = LRS[k] * group["lr_mult"]
        for n in params:
            params[n].grad = sum(part[n].double() for part in grads[k]) / accum
        opt.step()
    tensors = {"lrs": torch.tensor(LRS)}
    for n in params:
        tensors["init." + n] = init[n]
        tensors["final." + n] = params[n].detach()
        for k in range(STEPS):
            if accum == 1:
                tensors[f"grad{k}.{n}"] = grads[k][0][n]
            else:
                tensors[f"grad{k}a.{n}"] = grads[k][0][n]
                tensors[f"grad{k}b.{n}"] = grads[k][1][n]
    save("optim_" + name, tensors, steps=STEPS)


def generate(save):
    run(save, "sgd", lambda gr: torch.optim.SGD(gr, lr=LRS[0], momentum=0.9))
    run(save, "sgd_nesterov", lambda gr: torch.optim.SGD(gr, lr=LRS[0], momentum=0.9, nesterov=True))
    run(save, "sgd_accum", lambda gr: torch.optim.SGD(gr, lr=LRS[0], momentum=0.9), accum=2)
    run(save, "adamw", lambda gr: torch.optim.AdamW(gr, lr=LRS[0], betas=(0.8, 0.99), eps=1e-8))
