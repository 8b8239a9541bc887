"""roi_head's bbox_head = "res5" (plugins/heads/roi_head/res5_head.c on plugins/common/res_blocks) against a torch
reimplementation of Detectron2's Res5ROIHeads box head: torchvision's ResNet Bottleneck layer (as resnet50's layer4
builds it, narrower: 64 pooled channels, width 32, 128 out) on RoI-pooled features, adaptive average pooling, then
the box predictor's two linear layers. BN in eval mode (frozen BN) with randomised statistics and affine parameters.

Case res5_head (float32): `pooled` [5, 64, 14, 14] (torchvision.ops.roi_pool output of random features, 14x14),
every parameter under workbench's name (res5.<b>.conv1.weight, ..., bbox_head.fc_cls.weight, bbox_head.fc_reg.*),
outputs `cls` [5, 4] and `reg` [5, 12], and for loss = sum(cls * r_cls) + sum(reg * r_reg) the gradients
`grad:pooled` and `grad:<name>` of every weight (the BN affine parameters are frozen: none).
"""
import torch
import torchvision
from torchvision.models.resnet import Bottleneck


def layer4(cin, width, blocks):
    down = torch.nn.Sequential(torch.nn.Conv2d(cin, width * 4, 1, stride=2, bias=False),
                               torch.nn.BatchNorm2d(width * 4))
    layers = [Bottleneck(cin, width, stride=2, downsample=down)]
    layers += [Bottleneck(width * 4, width) for _ in range(blocks - 1)]
    return torch.nn.Sequential(*layers)


def generate(save):
    g = torch.Generator().manual_seed(51)
    cin, width, classes = 64, 32, 3
    res5 = layer4(cin, width, 3)
    for m in res5.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = torch.rand(c, generator=g) + 0.5
            m.bias.data = torch.randn(c, generator=g) * 0.1
            m.running_mean = torch.randn(c, generator=g) * 0.1
            m.running_var = torch.rand(c, generator=g) + 0.5
            m.weight.requires_grad_(False)
            m.bias.requires_grad_(False)
        elif isinstance(m, torch.nn.Conv2d):
            m.weight.data = torch.randn(m.weight.shape, generator=g) * (2.0 / m.weight[0].numel()) ** 0.5
    res5.eval()
    fc_cls, fc_reg = torch.nn.Linear(4 * width, classes + 1), torch.nn.Linear(4 * width, 4 * classes)
    for fc in (fc_cls, fc_reg):
        fc.weight.data = torch.randn(fc.weight.shape, generator=g) * 0.1
        fc.bias.data = torch.randn(fc.bias.shape, generator=g) * 0.1
    feats = torch.randn(2, cin, 20, 24, generator=g)
    rois = torch.tensor([[0, 10, 12, 200, 150], [0, 40, 40, 90, 100], [1, 0, 0, 380, 310], [1, 100, 50, 140, 70],
                         [0, 200, 100, 330, 300]], dtype=torch.float32)
    pooled = torchvision.ops.roi_pool(feats, rois, (14, 14), spatial_scale=1.0 / 16).detach().requires_grad_(True)
    x = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(res5(pooled), 1), 1)
    cls, reg = fc_cls(x), fc_reg(x)
    r_cls, r_reg = torch.randn(cls.shape, generator=g), torch.randn(reg.shape, generator=g)
    (cls * r_cls).sum().add((reg * r_reg).sum()).backward()
    tensors = {"pooled": pooled, "cls": cls, "reg": reg, "r_cls": r_cls, "r_reg": r_reg, "grad:pooled": pooled.grad}
    named = [(f"res5.{k}", v) for k, v in res5.state_dict(keep_vars=True).items() if "num_batches" not in k]
    named += [(f"bbox_head.fc_cls.{k}", v) for k, v in fc_cls.named_parameters()]
    named += [(f"bbox_head.fc_reg.{k}", v) for k, v in fc_reg.named_parameters()]
    for name, v in named:
        tensors[name] = v.detach()
        if v.requires_grad:
            tensors[f"grad:{name}"] = v.grad
    save("res5_head", tensors, cin=cin, width=width, classes=classes)
