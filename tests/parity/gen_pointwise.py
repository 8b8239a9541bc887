"""Torch parity cases for the pointwise ops: activations, broadcast add/mul,
resize, shape ops and reductions.

Every case stores its inputs, a random upstream gradient `dy`, torch's
output `y` and torch's gradient `d<input>` for every input, so the C test
can run forward and backward on each backend and compare both."""
import torch
import torch.nn.functional as F


def case(save, name, fn, inputs, **attrs):
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    y = fn(**leaves)
    dy = torch.randn_like(y)
    y.backward(dy)
    tensors = dict(inputs)
    tensors.update(y=y, dy=dy)
    tensors.update({"d" + k: v.grad for k, v in leaves.items()})
    # parity_io stores 0-D tensors as [1]; the rank travels separately.
    save(name, tensors, y_ndim=y.dim(), **attrs)


def activations(save):
    # Random values plus the kinks, where torch's derivative conventions matter.
    x = torch.empty(2, 3, 5, 7).uniform_(-5, 5)
    flat = x.view(-1)
    flat[:7] = torch.tensor([-3.0, 3.0, 0.0, -0.0, 1e-3, -1e-3, 2.5])
    acts = {
        "relu": F.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, 0.1),
        "silu": F.silu,
        "sigmoid": torch.sigmoid,
        "hardswish": F.hardswish,
    }
    for name, f in acts.items():
        case(save, "pw_act_" + name, lambda x, f=f: f(x), {"x": x})
    # Far tails: sigmoid and silu must saturate, not overflow.
    tails = torch.tensor([-100.0, -30.0, -10.0, 10.0, 30.0, 100.0])
    case(save, "pw_act_sigmoid_tails", lambda x: torch.sigmoid(x), {"x": tails})
    case(save, "pw_act_silu_tails", lambda x: F.silu(x), {"x": tails})


BROADCAST_SHAPES = {
    "same": ((3, 5, 7), (3, 5, 7)),
    "bias": ((2, 3, 4, 5), (3, 1, 1)),
    "rank": ((5,), (2, 3, 5)),
    "both": ((2, 1, 4, 1), (1, 3, 1, 5)),
    "scalar": ((1,), (3, 7)),
    "odd": ((3, 1, 7), (3, 5, 1)),
}


def binary(save):
    for tag, (sa, sb) in BROADCAST_SHAPES.items():
        a, b = torch.randn(*sa), torch.randn(*sb)
        case(save, "pw_add_" + tag, lambda a, b: a + b, {"a": a, "b": b})
        case(save, "pw_mul_" + tag, lambda a, b: a * b, {"a": a, "b": b})
    case(save, "pw_scale", lambda x: x * -0.75, {"x": torch.randn(2, 3, 5)}, s=-0.75)
    case(save, "pw_mul_self", lambda x: x * x, {"x": torch.randn(3, 5)})
    # A module-like chain where x feeds two consumers (mul and add), so its
    # gradient is the sum of two tape contributions.
    case(save, "pw_chain", lambda x, w, b: torch.sigmoid(x * w + x + b).sum(),
         {"x": torch.randn(2, 3, 4), "w": torch.randn(3, 1), "b": torch.randn(4)})


def resize(save):
    x = torch.randn(2, 3, 5, 7)
    for f in (2, 3):
        case(save, f"pw_nearest_x{f}", lambda x, f=f: F.interpolate(x, scale_factor=f, mode="nearest"),
             {"x": x}, factor=f)
    for (h, w) in ((13, 10), (3, 4), (5, 14), (1, 1)):
        case(save, f"pw_nearest_{h}x{w}", lambda x, h=h, w=w: F.interpolate(x, size=(h, w), mode="nearest"),
             {"x": x}, out_h=h, out_w=w)
    for ac in (0, 1):
        for (h, w) in ((11, 13), (3, 4), (5, 7), (1, 1), (9, 2)):
            case(save, f"pw_bilinear_{h}x{w}_ac{ac}",
                 lambda x, h=h, w=w, ac=ac: F.interpolate(x, size=(h, w), mode="bilinear",
                                                          align_corners=bool(ac)),
                 {"x": x}, out_h=h, out_w=w, align_corners=ac)


def shape_ops(save):
    a, b, c = torch.randn(2, 3, 4, 5), torch.randn(2, 1, 4, 5), torch.randn(2, 2, 4, 5)
    case(save, "pw_concat_axis1", lambda a, b, c: torch.cat([a, b, c], 1), {"a": a, "b": b, "c": c}, axis=1)
    case(save, "pw_concat_axis3", lambda a, b: torch.cat([a, b], 3),
         {"a": torch.randn(2, 3, 4, 5), "b": torch.randn(2, 3, 4, 2)}, axis=3)
    x = torch.randn(2, 6, 3, 5)
    # The pieces come back concatenated in reverse, so every piece is checked.
    case(save, "pw_split_axis1", lambda x: torch.cat(list(reversed(torch.split(x, [1, 3, 2], 1))), 1), {"x": x})
    case(save, "pw_slice_neg", lambda x: x[:, -4:-1], {"x": x}, axis=1, start=-4, end=-1)
    case(save, "pw_slice_clamp", lambda x: x[:, :, :, 2:100], {"x": x}, axis=3, start=2, end=100)
    case(save, "pw_permute", lambda x: x.permute(0, 2, 3, 1), {"x": x})
    case(save, "pw_reshape", lambda x: x.reshape(3, -1, 4) * 2.0, {"x": torch.randn(2, 3, 4, 2)})


def reductions(save):
    x = torch.randn(2, 3, 5, 7)
    case(save, "pw_sum_all", lambda x: x.sum(), {"x": x})
    case(save, "pw_mean_all", lambda x: x.mean(), {"x": x})
    for axis in (0, 1, 3):
        for keep in (0, 1):
            case(save, f"pw_sum_axis{axis}_k{keep}", lambda x, a=axis, k=keep: x.sum(a, keepdim=bool(k)), {"x": x})
            case(save, f"pw_mean_axis{axis}_k{keep}", lambda x, a=axis, k=keep: x.mean(a, keepdim=bool(k)),
                 {"x": x})


def generate(save):
    activations(save)
    binary(save)
    resize(save)
    shape_ops(save)
    reductions(save)
