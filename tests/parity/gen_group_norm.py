"""Torch parity cases for group_norm (ABI 1.3): groups 32, 1, one per channel,
with and without affine parameters, 2-D, 3-D and 4-D inputs; and relu(group_norm)
for group_norm_act (ABI 1.5)."""
import torch
import torch.nn.functional as F


def _group_norm(save, name, shape, groups, affine, eps=1e-5):
    c = shape[1]
    x = (torch.randn(shape) * 2.0 + 0.5).requires_grad_()
    gamma = (torch.rand(c) + 0.5).requires_grad_() if affine else None
    beta = torch.randn(c).requires_grad_() if affine else None
    y = F.group_norm(x, groups, gamma, beta, eps)
    dy = torch.randn(shape)
    wanted = [x] + ([gamma, beta] if affine else [])
    grads = torch.autograd.grad(y, wanted, dy)
    tensors = {"x": x, "y": y, "dy": dy, "dx": grads[0],
               "params": torch.tensor([groups, int(affine), eps], dtype=torch.float32)}
    if affine:
        tensors.update(gamma=gamma, beta=beta, dgamma=grads[1], dbeta=grads[2])
    save(name, tensors)


def _group_norm_relu(save, name, shape, groups, eps=1e-5):
    """relu(group_norm(x)): what group_norm_act gives (FCOS's towers)."""
    c = shape[1]
    x = (torch.randn(shape) * 2.0 + 0.5).requires_grad_()
    gamma = (torch.rand(c) + 0.5).requires_grad_()
    beta = torch.randn(c).requires_grad_()
    z = F.relu(F.group_norm(x, groups, gamma, beta, eps))
    dz = torch.randn(shape)
    dx, dgamma, dbeta = torch.autograd.grad(z, [x, gamma, beta], dz)
    save(name, {"x": x, "gamma": gamma, "beta": beta, "z": z, "dz": dz, "dx": dx, "dgamma": dgamma,
                "dbeta": dbeta, "params": torch.tensor([groups, 1, eps], dtype=torch.float32)})


def generate(save_case):
    def save(name, tensors, **attrs):  # every case of this file is named group_norm_*
        save_case("group_norm_" + name, tensors, **attrs)

    _group_norm(save, "g32", (2, 64, 5, 6), 32, True)
    _group_norm(save, "g4_plain", (3, 8, 4, 3), 4, False, eps=1e-3)
    _group_norm(save, "g1", (2, 6, 7, 5), 1, True)
    _group_norm(save, "per_channel", (2, 6, 3, 3), 6, True)
    _group_norm(save, "nc", (4, 12), 3, True)
    _group_norm(save, "3d", (2, 8, 10), 2, True, eps=1e-6)
    _group_norm_relu(save, "relu_g32", (2, 64, 6, 7), 32)
