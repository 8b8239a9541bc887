"""Torch parity cases for the elementwise SDK ops (ABI 1.2): sub, div,
minimum, maximum and the comparisons under numpy broadcasting, neg, exp,
log, pow, abs, clamp, add_scalar, where, and two losses written only with
them (varifocal and GIoU) whose gradients come from torch's autograd.

Each case stores its inputs, a random upstream gradient `dy`, torch's output
`y` and torch's gradient `d<input>` for every input that has one."""
import torch

BROADCAST_SHAPES = {
    "same": ((3, 5, 7), (3, 5, 7)),
    "bias": ((2, 3, 4, 5), (3, 1, 1)),
    "rank": ((5,), (2, 3, 5)),
    "both": ((2, 1, 4, 1), (1, 3, 1, 5)),
    "scalar": ((1,), (3, 7)),
    "odd": ((3, 1, 7), (3, 5, 1)),
    # Long odd rows: the vector loops' tails.
    "long": ((7, 37, 53), (37, 1)),
}


def case(save, name, fn, inputs, grads=None, **attrs):
    """grads: the input names that get a gradient (default all)."""
    grads = list(inputs) if grads is None else grads
    leaves = {k: v.clone().requires_grad_(k in grads) for k, v in inputs.items()}
    y = fn(**leaves)
    tensors = dict(inputs)
    tensors["y"] = y
    if grads:
        dy = torch.randn_like(y)
        y.backward(dy)
        tensors["dy"] = dy
        tensors.update({"d" + k: leaves[k].grad for k in grads})
    save(name, tensors, y_ndim=y.dim(), **attrs)


def small_ints(*shape):
    # Values from a small set, so equal pairs (ties) occur under every broadcast.
    return torch.randint(-3, 4, shape).float()


def away_from_zero(*shape):
    sign = torch.randint(0, 2, shape).float() * 2 - 1
    return sign * torch.empty(*shape).uniform_(0.5, 2.0)


def binary(save):
    for tag, (sa, sb) in BROADCAST_SHAPES.items():
        a, b = torch.randn(*sa), torch.randn(*sb)
        case(save, "ew_sub_" + tag, lambda a, b: a - b, {"a": a, "b": b})
        case(save, "ew_div_" + tag, lambda a, b: a / b, {"a": a, "b": away_from_zero(*sb)})
        ia, ib = small_ints(*sa), small_ints(*sb)
        case(save, "ew_minimum_" + tag, lambda a, b: torch.minimum(a, b), {"a": ia, "b": ib})
        case(save, "ew_maximum_" + tag, lambda a, b: torch.maximum(a, b), {"a": ia, "b": ib})
        for name in ("gt", "ge", "lt", "le", "eq", "ne"):
            f = getattr(torch, name)
            case(save, f"ew_{name}_{tag}", lambda a, b, f=f: f(a, b).float(), {"a": ia, "b": ib}, grads=[])
    nan = float("nan")
    a, b = torch.tensor([nan, 1.0, nan, 2.0]), torch.tensor([1.0, nan, nan, 2.0])
    for name in ("gt", "ge", "lt", "le", "eq", "ne"):
        f = getattr(torch, name)
        case(save, f"ew_{name}_nan", lambda a, b, f=f: f(a, b).float(), {"a": a, "b": b}, grads=[])
    case(save, "ew_minimum_nan", lambda a, b: torch.minimum(a, b), {"a": a, "b": b}, grads=[])
    case(save, "ew_maximum_nan", lambda a, b: torch.maximum(a, b), {"a": a, "b": b}, grads=[])


def with_values(x, values):
    flat = x.view(-1)
    flat[: len(values)] = torch.tensor(values)
    return x


def unary(save):
    shape = (3, 37, 11)
    case(save, "ew_neg", lambda x: torch.neg(x), {"x": torch.randn(*shape)})
    case(save, "ew_exp", lambda x: torch.exp(x), {"x": torch.empty(*shape).uniform_(-6, 6)})
    case(save, "ew_log", lambda x: torch.log(x), {"x": torch.empty(*shape).uniform_(0.05, 5)})
    zeros = [0.0, -0.0, 1e-30, -1e-30]
    case(save, "ew_abs", lambda x: torch.abs(x), {"x": with_values(torch.randn(*shape), zeros)})
    case(save, "ew_add_scalar", lambda x: x + 0.75, {"x": torch.randn(*shape)}, s=0.75)
    positive = torch.empty(*shape).uniform_(0.2, 3)
    signed = away_from_zero(*shape)
    for tag, p in (("2", 2.0), ("3", 3.0), ("0", 0.0), ("1", 1.0), ("m1", -1.0), ("m2", -2.0)):
        case(save, "ew_pow_" + tag, lambda x, p=p: x.pow(p), {"x": signed}, exponent=p)
    for tag, p in (("0p5", 0.5), ("m0p5", -0.5), ("1p7", 1.7), ("m1p3", -1.3)):
        case(save, "ew_pow_" + tag, lambda x, p=p: x.pow(p), {"x": positive}, exponent=p)
    # The bounds themselves are among the values: torch passes the gradient there.
    x = with_values(torch.empty(*shape).uniform_(-3, 3), [-1.0, 1.5, 0.5, 0.25, 1.0])
    bounds = {"both": (-1.0, 1.5), "lo": (0.5, None), "hi": (None, 0.25), "crossed": (1.0, -1.0)}
    for tag, (lo, hi) in bounds.items():
        case(save, "ew_clamp_" + tag, lambda x, lo=lo, hi=hi: torch.clamp(x, lo, hi), {"x": x},
             lo=float("nan") if lo is None else lo, hi=float("nan") if hi is None else hi)


WHERE_SHAPES = {
    "same": ((3, 5, 7), (3, 5, 7), (3, 5, 7)),
    "mixed": ((3, 1, 7), (3, 5, 7), (1, 5, 1)),
    "cond_small": ((5, 1), (4,), (3, 5, 4)),
}


def where(save):
    for tag, (sc, sa, sb) in WHERE_SHAPES.items():
        cond = (torch.randn(*sc) > 0).float()
        case(save, "ew_where_" + tag, lambda cond, a, b: torch.where(cond != 0, a, b),
             {"cond": cond, "a": torch.randn(*sa), "b": torch.randn(*sb)}, grads=["a", "b"])


def varifocal(pred, target, alpha=0.75, gamma=2.0):
    """mmdetection's varifocal_loss (iou_weighted, sum), with the BCE written
    out as the C test writes it: max(x, 0) - x t + log(1 + exp(-|x|))."""
    p = pred.sigmoid()
    weight = torch.where(target > 0, target, alpha * (p - target).abs().pow(gamma))
    bce = torch.clamp(pred, min=0) - pred * target + torch.log(1 + torch.exp(-pred.abs()))
    return (bce * weight).sum()


def giou_loss(pred, target):
    """1 - GIoU of x1y1x2y2 boxes, mean over boxes (mmdetection's giou_loss, eps 1e-6)."""
    eps = 1e-6
    area_p = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    area_t = (target[:, 2] - target[:, 0]) * (target[:, 3] - target[:, 1])
    lt, rb = torch.maximum(pred[:, :2], target[:, :2]), torch.minimum(pred[:, 2:], target[:, 2:])
    wh = torch.clamp(rb - lt, min=0)
    overlap = wh[:, 0] * wh[:, 1]
    union = area_p + area_t - overlap + eps
    iou = overlap / union
    elt, erb = torch.minimum(pred[:, :2], target[:, :2]), torch.maximum(pred[:, 2:], target[:, 2:])
    ewh = torch.clamp(erb - elt, min=0)
    enclose = ewh[:, 0] * ewh[:, 1] + eps
    return (1 - (iou - (enclose - union) / enclose)).mean()


def composite(save):
    pred = torch.randn(6, 5) * 2
    target = torch.rand(6, 5) * (torch.rand(6, 5) > 0.6).float()  # IoU targets, zeros for negatives
    case(save, "ew_varifocal", varifocal, {"pred": pred, "target": target}, grads=["pred"])
    xy = torch.rand(9, 2) * 10
    boxes = torch.cat([xy, xy + 1 + torch.rand(9, 2) * 5], 1)
    jitter = boxes + torch.randn(9, 4) * 1.5
    lt = torch.minimum(jitter[:, :2], jitter[:, 2:] - 0.5)
    target = torch.cat([lt, torch.maximum(jitter[:, 2:], lt + 0.5)], 1)
    target[0] = boxes[0] + 20  # disjoint: only the enclosing term moves it
    case(save, "ew_giou", giou_loss, {"pred": boxes, "target": target}, grads=["pred"])


def generate(save):
    # A seed of its own, and the shared stream left as found, so adding these
    # cases changes no other generator's inputs.
    outer = torch.get_rng_state()
    torch.manual_seed(10)
    binary(save)
    unary(save)
    where(save)
    composite(save)
    torch.set_rng_state(outer)
