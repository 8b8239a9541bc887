"""Torch references for the loss primitives (tests/unit/test_loss.c).

Each case `loss_<name>` holds the float32 inputs `a` (logits / pred), `b`
(target / labels) and optionally `w` (elementwise weight), and for every
reduction r in none, sum, mean: `out_<r>`, `ga_<r>` (d loss / d a) and, for
the regression losses, `gb_<r>` (d loss / d b). The upstream gradient is
`gy_none` for reduction none and the attribute `upstream` for sum / mean.
References are computed in float64 from the float32 inputs, so they are the
exact values the C kernels approximate.
"""
import torch
import torch.nn.functional as F
import torchvision.ops as tvo
from torchvision.ops._utils import _loss_inter_union

UPSTREAM = 0.7
REDUCTIONS = ("none", "sum", "mean")


def reduce(elem, r, count):
    if r == "none":
        return elem
    if r == "sum":
        return elem.sum()
    return elem.sum() / count


def make_case(save, name, a, b, w, elem_fn, grad_b, count=None, **attrs):
    """elem_fn(a, b) -> elementwise loss (float64); weights multiply it."""
    tensors = {"a": a, "b": b}
    if w is not None:
        tensors["w"] = w
    gy = torch.rand(elem_fn(a.double(), b.double()).shape, dtype=torch.float64) - 0.5
    tensors["gy_none"] = gy
    for r in REDUCTIONS:
        a64 = a.double().requires_grad_(True)
        b64 = b.double().requires_grad_(grad_b)
        elem = elem_fn(a64, b64)
        if w is not None:
            elem = elem * w.double()
        n = elem.numel() if count is None else count
        out = reduce(elem, r, n)
        out.backward(gy if r == "none" else torch.tensor(UPSTREAM, dtype=torch.float64))
        tensors["out_" + r] = out.detach()
        tensors["ga_" + r] = a64.grad
        if grad_b:
            tensors["gb_" + r] = b64.grad
    save("loss_" + name, tensors, upstream=UPSTREAM, has_w=int(w is not None), **attrs)


def random_boxes(n, scale=20.0):
    xy = torch.rand(n, 2) * scale
    wh = torch.rand(n, 2) * 8 + 1
    return torch.cat([xy, xy + wh], dim=1)


def jittered(boxes, amount):
    """Targets near the predictions (most overlap; some do not)."""
    return boxes + (torch.rand(boxes.shape) - 0.5) * 2 * amount


def plain_iou_loss(p, t, eps):
    inter, union = _loss_inter_union(p, t)
    return 1 - inter / (union + eps)


def generate(save):
    # Logits span the saturated range too, where the stable forms matter.
    x = torch.randn(6, 37) * 4
    x[0, :6] = torch.tensor([-40.0, -17.0, -9.0, 9.0, 17.0, 40.0])
    hard = (torch.rand(6, 37) < 0.3).float()
    soft = torch.where(torch.rand(6, 37) < 0.2, torch.rand(6, 37), hard)
    w = torch.rand(6, 37) * 2
    make_case(save, "focal", x, soft, w,
              lambda a, b: tvo.sigmoid_focal_loss(a, b, alpha=0.25, gamma=2.0, reduction="none"),
              False, gamma=2.0, alpha=0.25)
    make_case(save, "focal_noalpha", x[:, :29], hard[:, :29], None,
              lambda a, b: tvo.sigmoid_focal_loss(a, b, alpha=-1, gamma=1.5, reduction="none"),
              False, gamma=1.5, alpha=-1.0)

    xb = torch.randn(5, 3, 7) * 5
    tb = torch.rand(5, 3, 7)
    make_case(save, "bce", xb, tb, torch.rand(5, 3, 7),
              lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"), False)

    xc = torch.randn(23, 9) * 3
    labels = torch.randint(0, 9, (23,)).float()
    labels[[2, 7, 8, 19]] = -1
    make_case(save, "ce", xc, labels, torch.rand(23) * 2,
              lambda a, b: F.cross_entropy(a, b.long(), ignore_index=-1, reduction="none"),
              False, count=int((labels >= 0).sum()))

    p = torch.randn(4, 33)
    t = p + (torch.rand(4, 33) - 0.5) * 1.0
    make_case(save, "smooth_l1", p, t, torch.rand(4, 33),
              lambda a, b: F.smooth_l1_loss(a, b, beta=0.11, reduction="none"), True, beta=0.11)
    make_case(save, "l1", p, t, None, lambda a, b: F.l1_loss(a, b, reduction="none"), True)

    eps = 1e-7
    pb = random_boxes(29)
    tb_ = jittered(pb, 3.0)
    tb_[:, 2:] = torch.maximum(tb_[:, 2:], tb_[:, :2] + 0.5)  # keep targets non-empty
    losses = {
        "iou": lambda a, b: plain_iou_loss(a, b, eps),
        "giou": lambda a, b: tvo.generalized_box_iou_loss(a, b, eps=eps),
        "diou": lambda a, b: tvo.distance_box_iou_loss(a, b, eps=eps),
        "ciou": lambda a, b: tvo.complete_box_iou_loss(a, b, eps=eps),
    }
    wi = torch.rand(29) * 2
    for mode, (name, fn) in enumerate(losses.items()):
        make_case(save, name, pb, tb_, wi if mode % 2 == 0 else None, fn, True, mode=mode, eps=eps)
