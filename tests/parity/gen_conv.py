"""conv2d parity cases: torch.nn.functional.conv2d forward and autograd grads.

Each case stores x, w, b (only when the conv has a bias), the upstream gradient dy, and torch's y, dx, dw,
(db) in float32 (computed in float64 so torch's side carries no float32
rounding), with the conv parameters as attributes.
"""
import torch
import torch.nn.functional as F

# name, (N, C, H, W), (O, kh, kw), stride, pad, dilation, groups, bias
CASES = [
    ("conv_basic", (2, 3, 9, 11), (5, 3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    ("conv_stride2_odd", (1, 4, 13, 10), (6, 3, 3), (2, 2), (1, 1), (1, 1), 1, True),
    ("conv_rect_kernel", (2, 5, 8, 7), (4, 1, 5), (1, 2), (0, 2), (1, 1), 1, False),
    ("conv_dilated", (1, 6, 15, 12), (8, 3, 3), (1, 1), (2, 2), (2, 2), 1, True),
    ("conv_groups", (2, 8, 10, 9), (12, 3, 3), (2, 1), (1, 1), (1, 1), 4, True),
    ("conv_depthwise", (2, 16, 11, 13), (16, 3, 3), (1, 1), (1, 1), (1, 1), 16, False),
    ("conv_1x1", (3, 32, 7, 5), (24, 1, 1), (1, 1), (0, 0), (1, 1), 1, True),
    ("conv_7x7_s2", (1, 3, 23, 21), (8, 7, 7), (2, 2), (3, 3), (1, 1), 1, False),
    ("conv_wide", (2, 64, 12, 12), (48, 3, 3), (1, 1), (1, 1), (1, 1), 1, True),
]


def generate(save):
    gen = torch.Generator().manual_seed(1234)
    for name, xs, (o, kh, kw), stride, pad, dil, groups, bias in CASES:
        x = torch.randn(xs, generator=gen, dtype=torch.float64, requires_grad=True)
        w = (torch.randn((o, xs[1] // groups, kh, kw), generator=gen, dtype=torch.float64) * 0.3).requires_grad_()
        b = torch.randn((o,), generator=gen, dtype=torch.float64, requires_grad=True) if bias else None
        y = F.conv2d(x, w, b, stride=stride, padding=pad, dilation=dil, groups=groups)
        dy = torch.randn(y.shape, generator=gen, dtype=torch.float64)
        y.backward(dy)
        tensors = {"x": x, "w": w, "dy": dy, "y": y, "dx": x.grad, "dw": w.grad}
        if bias:
            tensors.update(b=b, db=b.grad)
        save(name, {k: v.detach().float() for k, v in tensors.items()},
             stride_h=stride[0], stride_w=stride[1], pad_h=pad[0], pad_w=pad[1],
             dil_h=dil[0], dil_w=dil[1], groups=groups)
