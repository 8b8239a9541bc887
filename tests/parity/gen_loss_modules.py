"""References for the basic loss MODULES (tests/unit/test_loss_modules.c).

The module semantics are mmdetection's, written out here independently of
our code: the elementwise loss of torch / torchvision, times the weight
input, reduced (none, sum, or mean over the elements), times loss_weight
(mmdet's weight_reduce_loss and the losses' forward). Two mmdetection
details the modules follow:
  - cross_entropy (softmax) takes class indices with -1 ignored, and "mean"
    divides by the number of rows not ignored (mmdet's avg_non_ignore=True);
  - the IoU family takes a per-box weight [N], or the [N, 4] weight of the
    box deltas, which counts as its row mean (mmdet's IoU losses do
    `weight = weight.mean(-1)`); "iou" is mmdet's IoULoss(mode='linear'),
    1 - IoU.

Each case `lossmod_<name>` holds float32 inputs `pred`, `target` and
optionally `weight`, the module config without its reduction as the string
attribute `config`, and for every reduction r: `out_<r>` and `gpred_<r>`
(d out / d pred for the upstream gradient `gy_none` under "none" and the
attribute `upstream` under sum / mean). References are float64 computed from
the float32 inputs.
"""
import torch
import torch.nn.functional as F
import torchvision.ops as tvo

UPSTREAM = 0.7
REDUCTIONS = ("none", "sum", "mean")


def random_boxes(n, gen, scale=30.0):
    xy = torch.rand(n, 2, generator=gen) * scale
    wh = torch.rand(n, 2, generator=gen) * 10 + 1
    return torch.cat([xy, xy + wh], dim=1)


def near(boxes, gen, amount):
    """Targets near the predictions, kept non-empty."""
    t = boxes + (torch.rand(boxes.shape, generator=gen) - 0.5) * 2 * amount
    t[:, 2:] = torch.maximum(t[:, 2:], t[:, :2] + 0.5)
    return t


def iou_1_minus(p, t):
    return 1 - torch.diagonal(tvo.box_iou(p, t))


def mmdet_module(elem_fn, loss_weight, count_fn=None, row_mean_weight=False):
    """The module as mmdetection defines it: loss_weight * reduce(elem * weight)."""
    def run(pred, target, weight, reduction):
        elem = elem_fn(pred, target)
        if weight is not None:
            if row_mean_weight and weight.dim() == 2:
                weight = weight.mean(-1)
            elem = elem * weight
        if reduction == "sum":
            elem = elem.sum()
        elif reduction == "mean":
            elem = elem.sum() / (elem.numel() if count_fn is None else count_fn(target))
        return loss_weight * elem
    return run


def save_case(save, name, config, module, pred, target, weight, gen):
    tensors = {"pred": pred, "target": target}
    if weight is not None:
        tensors["weight"] = weight
    shape = module(pred.double(), target.double(), None if weight is None else weight.double(), "none").shape
    gy = torch.rand(shape, generator=gen, dtype=torch.float64) - 0.5
    tensors["gy_none"] = gy
    for r in REDUCTIONS:
        p = pred.double().requires_grad_(True)
        out = module(p, target.double(), None if weight is None else weight.double(), r)
        out.backward(gy if r == "none" else torch.tensor(UPSTREAM, dtype=torch.float64))
        tensors["out_" + r] = out.detach()
        tensors["gpred_" + r] = p.grad
    save("lossmod_" + name, tensors, config=config, upstream=UPSTREAM, has_weight=int(weight is not None))


def generate(save):
    gen = torch.Generator().manual_seed(401)

    def rand(*shape):
        return torch.rand(*shape, generator=gen)

    logits = torch.randn(7, 13, generator=gen) * 3
    logits[0, :4] = torch.tensor([-30.0, -8.0, 8.0, 30.0])
    hard = (rand(7, 13) < 0.3).float()
    save_case(save, "focal", 'type = "focal_loss"; gamma = 1.5; alpha = 0.3; loss_weight = 2.5;',
              mmdet_module(lambda a, b: tvo.sigmoid_focal_loss(a, b, alpha=0.3, gamma=1.5), 2.5),
              logits, hard, rand(7, 13) * 2, gen)
    save_case(save, "focal_defaults", 'type = "focal_loss";',
              mmdet_module(lambda a, b: tvo.sigmoid_focal_loss(a, b, alpha=0.25, gamma=2.0), 1.0),
              logits[:5, :9], hard[:5, :9], None, gen)
    save_case(save, "focal_noalpha", 'type = "focal_loss"; gamma = 1.0; alpha = -1.0; loss_weight = 0.5;',
              mmdet_module(lambda a, b: tvo.sigmoid_focal_loss(a, b, alpha=-1, gamma=1.0), 0.5),
              logits[:3], hard[:3], None, gen)

    xb = torch.randn(3, 5, 7, generator=gen) * 4
    tb = (rand(3, 5, 7) < 0.4).float()
    save_case(save, "bce", 'type = "cross_entropy"; use_sigmoid = true; loss_weight = 0.8;',
              mmdet_module(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"), 0.8),
              xb, tb, rand(3, 5, 7) * 2, gen)

    xc = torch.randn(11, 6, generator=gen) * 3
    labels = torch.randint(0, 6, (11,), generator=gen).float()
    labels[[1, 4, 9]] = -1
    ce = lambda a, b: F.cross_entropy(a, b.long(), ignore_index=-1, reduction="none")  # noqa: E731
    not_ignored = lambda b: int((b >= 0).sum())  # noqa: E731
    save_case(save, "ce", 'type = "cross_entropy"; loss_weight = 1.5;', mmdet_module(ce, 1.5, not_ignored),
              xc, labels, rand(11) * 2, gen)
    save_case(save, "ce_noweight", 'type = "cross_entropy"; use_sigmoid = false;',
              mmdet_module(ce, 1.0, not_ignored), xc[:8], labels[:8].abs(), None, gen)

    p = torch.randn(9, 4, generator=gen)
    t = p + (rand(9, 4) - 0.5) * 1.5
    save_case(save, "smooth_l1", 'type = "smooth_l1"; beta = 0.2; loss_weight = 3.0;',
              mmdet_module(lambda a, b: F.smooth_l1_loss(a, b, beta=0.2, reduction="none"), 3.0),
              p, t, rand(9, 4), gen)
    save_case(save, "smooth_l1_defaults", 'type = "smooth_l1";',
              mmdet_module(lambda a, b: F.smooth_l1_loss(a, b, beta=1.0, reduction="none"), 1.0),
              p * 2, t, None, gen)
    save_case(save, "l1", 'type = "l1"; loss_weight = 0.25;',
              mmdet_module(lambda a, b: F.l1_loss(a, b, reduction="none"), 0.25),
              p[:5, :3], t[:5, :3], rand(5, 3), gen)

    pb = random_boxes(13, gen)
    tbx = near(pb, gen, 4.0)
    tbx[12] = torch.tensor([100.0, 100.0, 110.0, 108.0])  # one pair without overlap
    w4 = rand(13, 4)
    w4[[2, 7]] = 0.0  # negatives: rows of zeros, as a head passes them
    iou_cases = [
        ("iou", 'type = "iou"; eps = 0.0; loss_weight = 2.0;', iou_1_minus, 2.0, rand(13) * 2),
        ("giou", 'type = "giou"; eps = 1e-7;',
         lambda a, b: tvo.generalized_box_iou_loss(a, b, eps=1e-7), 1.0, w4),
        ("diou", 'type = "diou"; loss_weight = 0.5;',
         lambda a, b: tvo.distance_box_iou_loss(a, b, eps=1e-6), 0.5, None),
        ("ciou", 'type = "ciou"; eps = 1e-5; loss_weight = 1.2;',
         lambda a, b: tvo.complete_box_iou_loss(a, b, eps=1e-5), 1.2, w4),
    ]
    for name, config, fn, loss_weight, weight in iou_cases:
        save_case(save, name, config, mmdet_module(fn, loss_weight, row_mean_weight=True), pb, tbx, weight, gen)
