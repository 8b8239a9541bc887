"""tiny_cnn + center_head forward and backward in torch, for test_tiny_parity.

Weights, input, output gradients and torch's parameter gradients are saved
under the names our modules use, so the C test loads them with the
checkpoint loader."""
import torch
import torch.nn.functional as F

WIDTHS = [8, 16]


def tiny_cnn(x, p):
    for s in range(len(WIDTHS)):
        for k in range(2):
            pre = f"backbone.stage{s}"
            x = F.conv2d(x, p[f"{pre}.conv{k}.weight"], None, 2 if k == 0 else 1, 1)
            x = F.batch_norm(x, p[f"{pre}.bn{k}.running_mean"], p[f"{pre}.bn{k}.running_var"],
                             p[f"{pre}.bn{k}.weight"], p[f"{pre}.bn{k}.bias"], True, 0.1, 1e-5)
            x = F.relu(x)
    return x


def center_head(x, p):
    c = F.relu(F.conv2d(x, p["head.cls_conv.weight"], p["head.cls_conv.bias"], 1, 1))
    r = F.relu(F.conv2d(x, p["head.reg_conv.weight"], p["head.reg_conv.bias"], 1, 1))
    return (F.conv2d(c, p["head.cls_out.weight"], p["head.cls_out.bias"]),
            F.conv2d(r, p["head.reg_out.weight"], p["head.reg_out.bias"]))


def generate(save):
    g = torch.Generator().manual_seed(11)
    p, cin = {}, 3
    for s, c in enumerate(WIDTHS):
        for k in range(2):
            pre = f"backbone.stage{s}"
            p[f"{pre}.conv{k}.weight"] = torch.randn(c, cin if k == 0 else c, 3, 3, generator=g) * 0.3
            p[f"{pre}.bn{k}.weight"] = torch.rand(c, generator=g) + 0.5
            p[f"{pre}.bn{k}.bias"] = torch.rand(c, generator=g) - 0.5
            p[f"{pre}.bn{k}.running_mean"] = torch.rand(c, generator=g) - 0.5
            p[f"{pre}.bn{k}.running_var"] = torch.rand(c, generator=g) + 0.5
            cin = c
    for branch, cout in (("cls", 3), ("reg", 4)):
        p[f"head.{branch}_conv.weight"] = torch.randn(16, cin, 3, 3, generator=g) * 0.1
        p[f"head.{branch}_conv.bias"] = torch.rand(16, generator=g) - 0.5
        p[f"head.{branch}_out.weight"] = torch.randn(cout, 16, 1, 1, generator=g) * 0.1
        p[f"head.{branch}_out.bias"] = torch.rand(cout, generator=g) - 0.5
    x = torch.rand(2, 3, 32, 48, generator=g) * 2 - 1
    trainable = {k: v.clone().requires_grad_() for k, v in p.items() if "running" not in k}
    buffers = {k: v.clone() for k, v in p.items() if "running" in k}
    cls, reg = center_head(tiny_cnn(x, {**trainable, **buffers}), trainable)
    r_cls = torch.rand(cls.shape, generator=g) - 0.5
    r_reg = torch.rand(reg.shape, generator=g) - 0.5
    ((cls * r_cls).sum() + (reg * r_reg).sum()).backward()
    out = dict(p)
    out.update({"input": x, "r_cls": r_cls, "r_reg": r_reg, "out_cls": cls, "out_reg": reg})
    out.update({f"grad.{k}": v.grad for k, v in trainable.items()})
    out.update({f"updated.{k}": v for k, v in buffers.items()})
    save("tiny_cnn_center_head", out)
