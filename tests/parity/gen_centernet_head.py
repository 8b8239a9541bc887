"""centernet_head parity cases: CenterNet's training targets, losses and decoding written in torch here,
following "Objects as Points" and its code's definitions (gaussian_radius, draw_umich_gaussian, _neg_loss,
RegL1Loss, ctdet_decode's max-pool peaks and top-k), gradients by torch autograd in float64.

Cases (input feature map [2, 16, 16, 16] at stride 4, i.e. 64x64 images, 3 classes; seeded random head weights
saved as <case>_weights.safetensors under head.*):
  centernet_head_wh:   branch "conv" (head_conv 8), box "wh_offset": loss terms, gradients of their sum
  centernet_head_ltrb: branch "separable", box "ltrb" (box_scale 16): loss terms (GIoU by
                       torchvision.ops.generalized_box_iou_loss), gradients
  centernet_head_decode: random heatmap logits [1, 3, 12, 10] and ltrb boxes -> the top 20 detections
"""
import importlib.util
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_torchvision.py")
_spec = importlib.util.spec_from_file_location("export_torchvision", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

STRIDE, C, IN_CH = 4, 3, 16
BOXES = [  # per image: x1, y1, x2, y2 (input pixels), label
    [(4.0, 6.0, 30.5, 40.0, 0), (33.0, 10.0, 60.0, 22.0, 2), (10.0, 44.0, 18.0, 60.0, 1)],
    [(20.0, 20.0, 50.0, 58.0, 1)],
]
GRADS = ["head.hm.0.weight", "head.hm.2.bias", "head.wh.0.bias", "head.wh.2.weight", "head.reg.2.weight",
         "head.hm.1.weight", "head.hm.1.bias", "head.wh.1.weight", "head.wh.1.bias"]


def gaussian_radius(h, w, min_overlap=0.7):
    b1, c1 = h + w, w * h * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1 ** 2 - 4 * c1)) / 2
    b2, c2 = 2 * (h + w), (1 - min_overlap) * w * h
    r2 = (b2 + math.sqrt(b2 ** 2 - 16 * c2)) / 2
    a3, b3, c3 = 4 * min_overlap, -2 * min_overlap * (h + w), (min_overlap - 1) * w * h
    r3 = (b3 + math.sqrt(b3 ** 2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def targets(fh, fw):
    heat = np.zeros((len(BOXES), C, fh, fw))
    objs = []  # (image, cy, cx, box, w, h, offset x, offset y)
    for n, boxes in enumerate(BOXES):
        for x1, y1, x2, y2, label in boxes:
            w, h = (x2 - x1) / STRIDE, (y2 - y1) / STRIDE
            cx, cy = (x1 + x2) / 2 / STRIDE, (y1 + y2) / 2 / STRIDE
            ix, iy = int(cx), int(cy)
            r = max(0, int(gaussian_radius(math.ceil(h), math.ceil(w))))
            sigma = (2 * r + 1) / 6
            for y in range(max(0, iy - r), min(fh, iy + r + 1)):
                for x in range(max(0, ix - r), min(fw, ix + r + 1)):
                    g = math.exp(-((x - ix) ** 2 + (y - iy) ** 2) / (2 * sigma ** 2))
                    heat[n, label, y, x] = max(heat[n, label, y, x], g)
            objs.append((n, iy, ix, (x1, y1, x2, y2), w, h, cx - ix, cy - iy))
    return torch.from_numpy(heat), objs


def neg_loss(logits, gt):
    pred = torch.clamp(torch.sigmoid(logits), 1e-4, 1 - 1e-4)
    pos = gt.eq(1).double()
    pos_loss = (torch.log(pred) * (1 - pred) ** 2 * pos).sum()
    neg_loss = (torch.log(1 - pred) * pred ** 2 * (1 - gt) ** 4 * (1 - pos)).sum()
    return -(pos_loss + neg_loss) / pos.sum()


def conv_branch(x, p, name, separable):
    if separable:
        y = F.conv2d(x, p[f"head.{name}.0.weight"], padding=1, groups=IN_CH)
        return F.conv2d(y, p[f"head.{name}.1.weight"], p[f"head.{name}.1.bias"])
    y = F.relu(F.conv2d(x, p[f"head.{name}.0.weight"], p[f"head.{name}.0.bias"], padding=1))
    return F.conv2d(y, p[f"head.{name}.2.weight"], p[f"head.{name}.2.bias"])


def random_params(separable, ltrb, gen):
    def r(*shape, s=0.2):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * s).float().double()
    p = {}
    branches = [("hm", C), ("wh", 4 if ltrb else 2)] + ([] if ltrb else [("reg", 2)])
    for name, out in branches:
        if separable:
            p[f"head.{name}.0.weight"] = r(IN_CH, 1, 3, 3)
            p[f"head.{name}.1.weight"], p[f"head.{name}.1.bias"] = r(out, IN_CH, 1, 1), r(out, s=0.5)
        else:
            p[f"head.{name}.0.weight"], p[f"head.{name}.0.bias"] = r(8, IN_CH, 3, 3), r(8)
            p[f"head.{name}.2.weight"], p[f"head.{name}.2.bias"] = r(out, 8, 1, 1), r(out, s=0.5)
    if ltrb:  # distances of about a box size: GIoU away from its degenerate cases
        p["head.wh.1.bias"] = torch.full((4,), 1.0, dtype=torch.float64)
    return p


def gen_loss(save, case, separable, ltrb, seed):
    gen = torch.Generator().manual_seed(seed)
    p = random_params(separable, ltrb, gen)
    x = (torch.randn(2, IN_CH, 16, 16, generator=gen, dtype=torch.float64)).float().double()
    path = os.path.join(os.environ["WB_PARITY_DIR"], case + "_weights.safetensors")
    os.makedirs(os.environ["WB_PARITY_DIR"], exist_ok=True)
    export.write_safetensors(path, {k: v.float() for k, v in p.items()})
    for v in p.values():
        v.requires_grad_(True)
    x.requires_grad_(True)
    heat_gt, objs = targets(16, 16)
    hm = conv_branch(x, p, "hm", separable)
    wh = conv_branch(x, p, "wh", separable)
    terms = {"loss_heatmap": neg_loss(hm, heat_gt)}
    if ltrb:
        pred, tgt = [], []
        for n, iy, ix, box, *_ in objs:
            gx, gy, d = ix * STRIDE, iy * STRIDE, wh[n, :, iy, ix] * 16.0
            pred.append(torch.stack([gx - d[0], gy - d[1], gx + d[2], gy + d[3]]))
            tgt.append(torch.tensor(box, dtype=torch.float64))
        giou = torchvision.ops.generalized_box_iou_loss(torch.stack(pred), torch.stack(tgt), reduction="sum")
        terms["loss_giou"] = 5.0 * giou / len(objs)
    else:
        reg = conv_branch(x, p, "reg", separable)
        l_wh = sum((wh[n, 0, iy, ix] - w).abs() + (wh[n, 1, iy, ix] - h).abs() for n, iy, ix, _, w, h, _, _ in objs)
        l_off = sum((reg[n, 0, iy, ix] - ox).abs() + (reg[n, 1, iy, ix] - oy).abs()
                    for n, iy, ix, _, _, _, ox, oy in objs)
        terms["loss_wh"] = 0.1 * l_wh / (2 * len(objs))
        terms["loss_offset"] = 1.0 * l_off / (2 * len(objs))
    sum(terms.values()).backward()
    tensors = {"x": x.detach().float()}
    tensors.update({"term:" + k: v.detach().reshape(1).float() for k, v in terms.items()})
    tensors.update({"grad:" + k: v.grad.float() for k, v in p.items() if k in GRADS})
    tensors["grad:x"] = x.grad.float()
    save(case, tensors, num_weights=len(p))


def gen_decode(save):
    gen = torch.Generator().manual_seed(77)
    heat = torch.randn(1, C, 12, 10, generator=gen) * 3
    wh = torch.rand(1, 4, 12, 10, generator=gen) * 2
    prob = torch.sigmoid(heat.double())
    keep = (F.max_pool2d(prob, 3, 1, 1) == prob).double() * prob
    flat = keep.permute(0, 2, 3, 1).reshape(-1)  # NHWC: index = (y * W + x) * C + c
    score, idx = torch.topk(flat, 20)
    cls, cell = idx % C, idx // C
    y, x = cell // 10, cell % 10
    d = wh[0, :, y, x].double() * 16.0
    boxes = torch.stack([x * STRIDE - d[0], y * STRIDE - d[1], x * STRIDE + d[2], y * STRIDE + d[3]], 1)
    det = torch.cat([boxes, score[:, None], cls[:, None].double()], 1)
    save("centernet_head_decode", {"heat": heat, "wh": wh, "det": det.float()})


def generate(save):
    gen_loss(save, "centernet_head_wh", separable=False, ltrb=False, seed=90)
    gen_loss(save, "centernet_head_ltrb", separable=True, ltrb=True, seed=91)
    gen_decode(save)
