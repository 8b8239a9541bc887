"""Torch parity case for hardsigmoid (ABI 1.3), in the format of
gen_pointwise's activation cases (test_activation runs it with them)."""
import torch
import torch.nn.functional as F


def _hardsigmoid(save, name, n):
    # Both kinks and both sides of them, then random values; torch's
    # vectorised kernel (16 elements and more) decides the kink convention.
    x = torch.cat([torch.tensor([-3.0, 3.0, -3.0001, -2.9999, 2.9999, 3.0001, 0.0, -10.0, 10.0]),
                   torch.randn(n) * 4.0]).requires_grad_()
    y = F.hardsigmoid(x)
    dy = torch.randn(x.shape)
    (dx,) = torch.autograd.grad(y, [x], dy)
    save(name, {"x": x, "y": y, "dy": dy, "dx": dx}, y_ndim=1)


def generate(save):
    _hardsigmoid(save, "pw_act_hardsigmoid", 55)
