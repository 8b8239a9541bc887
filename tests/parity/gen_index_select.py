"""Torch parity cases for index_select (ABI 1.3): repeated indices, whose
gradients add up, on the first, a middle and the last axis."""
import torch


def _index_select(save, name, shape, axis, index):
    x = torch.randn(shape).requires_grad_()
    idx = torch.tensor(index, dtype=torch.long)
    y = torch.index_select(x, axis, idx)
    dy = torch.randn(y.shape)
    (dx,) = torch.autograd.grad(y, [x], dy) if y.numel() else (torch.zeros(shape),)
    save(name, {"x": x, "index": idx.float(), "y": y, "dy": dy, "dx": dx,
                "params": torch.tensor([axis], dtype=torch.float32)})


def generate(save_case):
    def save(name, tensors, **attrs):  # every case of this file is named index_select_*
        save_case("index_select_" + name, tensors, **attrs)

    _index_select(save, "rows_repeated", (5, 3, 2), 0, [4, 0, 4, 4, 2, 0, 1])
    _index_select(save, "middle_axis", (2, 6, 3), 1, [5, 5, 1])
    _index_select(save, "last_axis", (3, 4), -1, [3, 0, 0, 2, 1])
    _index_select(save, "empty", (4, 3), 0, [])
