"""References for the example loss plugin tp_varifocal_loss
(examples/plugins/loss/, tested by tests/unit/test_example_plugins.c).

mmdetection's varifocal_loss, written out here independently of the plugin:
  focal_weight = target * (target > 0)  [iou_weighted]  or  (target > 0)
               + alpha * |sigmoid(pred) - target|^gamma * (target <= 0)
  loss = bce_with_logits(pred, target, reduction='none') * focal_weight
then mmdet's weight_reduce_loss (times the weight, none / sum / mean over
the elements) and loss_weight. Case `example_vfl_<name>`: float32 inputs
`pred`, `target`, `weight`; the module config without its reduction as the
attribute `config`; per reduction r `out_<r>` and `gpred_<r>` (d out / d pred
for the upstream `gy_none` under none and the attribute `upstream` under sum
and mean). float64 references from the float32 inputs.
"""
import torch
import torch.nn.functional as F

UPSTREAM = 0.7
REDUCTIONS = ("none", "sum", "mean")


def varifocal(pred, target, weight, alpha, gamma, iou_weighted, loss_weight, reduction):
    p = pred.sigmoid()
    positive = (target > 0.0).to(pred.dtype)
    negative = (target <= 0.0).to(pred.dtype)
    focal_weight = (target * positive if iou_weighted else positive) + alpha * (p - target).abs().pow(gamma) * negative
    loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none") * focal_weight * weight
    if reduction == "sum":
        loss = loss.sum()
    elif reduction == "mean":
        loss = loss.mean()
    return loss_weight * loss


def case(save, gen, name, iou_weighted, alpha, gamma, loss_weight):
    rows, classes = 12, 5
    pred = (torch.randn(rows, classes, generator=gen) * 2.5).float()
    # IoU-aware targets: most entries 0 (negatives), some in (0, 1]; the binary case uses 1.
    target = torch.zeros(rows, classes)
    chosen = torch.rand(rows, classes, generator=gen) < 0.3
    quality = torch.rand(rows, classes, generator=gen) * 0.9 + 0.1
    target[chosen] = quality[chosen] if iou_weighted else 1.0
    weight = (torch.rand(rows, classes, generator=gen) + 0.25) / 7.0
    tensors = {"pred": pred, "target": target, "weight": weight}
    gy_none = torch.randn(rows, classes, generator=gen).float()
    tensors["gy_none"] = gy_none
    config = (f'type = "tp_varifocal_loss"; alpha = {alpha}; gamma = {gamma}; '
              f'iou_weighted = {"true" if iou_weighted else "false"}; loss_weight = {loss_weight};')
    for r in REDUCTIONS:
        x = pred.double().requires_grad_(True)
        out = varifocal(x, target.double(), weight.double(), alpha, gamma, iou_weighted, loss_weight, r)
        out.backward(gy_none.double() if r == "none" else torch.tensor(UPSTREAM, dtype=torch.float64))
        tensors[f"out_{r}"] = out.detach().reshape(-1)
        tensors[f"gpred_{r}"] = x.grad
    save(f"example_vfl_{name}", tensors, config=config, upstream=UPSTREAM)


def generate(save):
    gen = torch.Generator().manual_seed(1010)
    case(save, gen, "iou", True, 0.75, 2.0, 1.0)
    case(save, gen, "binary", False, 0.5, 1.5, 1.5)
