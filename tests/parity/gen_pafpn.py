"""PAFPN neck parity cases: a small PyTorch reimplementation of mmdetection's
PAFPN (mmdet/models/necks/pafpn.py on top of its FPN; mmdetection itself is not
installed here), with mmdetection's module names (ConvModule without norm:
<group>.<j>.conv.{weight,bias}).

Weights and biases are seeded random; references are float64 from the float32
weights and inputs. Each case stores the outputs p<l>, random output weights
r<i>, and the gradients of sum(p_i * r_i) for every parameter ("grad:neck.<name>")
and every input ("grad_in:c<l>").

Cases (inputs c3..c5 of 16, 24, 32 channels at odd sizes, 16 output channels):
  pafpn_none:        num_outs 5, extra levels by max-pool
  pafpn_on_input:    num_outs 5, on_input, relu_before_extra_convs
  pafpn_on_lateral:  num_outs 5, on_lateral
  pafpn_on_output:   num_outs 6, on_output, relu_before_extra_convs
  pafpn_start1:      inputs c2..c5, start_level 1, num_outs 4, on_output
"""
import importlib.util
import os

import torch
import torch.nn.functional as F
from torch import nn

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_torchvision.py")
_spec = importlib.util.spec_from_file_location("export_torchvision", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

OUT_CHANNELS = 16
INPUTS = {"c2": (8, 25, 33), "c3": (16, 13, 17), "c4": (24, 7, 9), "c5": (32, 4, 5)}


class ConvModule(nn.Module):
    """mmcv's ConvModule with no norm and no activation: just .conv."""

    def __init__(self, cin, cout, k, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)

    def forward(self, x):
        return self.conv(x)


class PAFPN(nn.Module):
    """mmdetection 2.x FPN.__init__ + PAFPN.__init__ / forward, no norm, no activation."""

    def __init__(self, in_channels, out_channels, num_outs, start_level, add_extra_convs, relu_before_extra_convs):
        super().__init__()
        self.start_level, self.num_outs = start_level, num_outs
        self.add_extra_convs, self.relu_before_extra_convs = add_extra_convs, relu_before_extra_convs
        self.backbone_end_level = len(in_channels)
        self.lateral_convs, self.fpn_convs = nn.ModuleList(), nn.ModuleList()
        for i in range(start_level, self.backbone_end_level):
            self.lateral_convs.append(ConvModule(in_channels[i], out_channels, 1))
            self.fpn_convs.append(ConvModule(out_channels, out_channels, 3))
        extra_levels = num_outs - self.backbone_end_level + start_level
        if add_extra_convs and extra_levels >= 1:
            for i in range(extra_levels):
                cin = in_channels[self.backbone_end_level - 1] if i == 0 and add_extra_convs == "on_input" \
                    else out_channels
                self.fpn_convs.append(ConvModule(cin, out_channels, 3, stride=2))
        self.downsample_convs, self.pafpn_convs = nn.ModuleList(), nn.ModuleList()
        for _ in range(start_level + 1, self.backbone_end_level):
            self.downsample_convs.append(ConvModule(out_channels, out_channels, 3, stride=2))
            self.pafpn_convs.append(ConvModule(out_channels, out_channels, 3))

    def forward(self, inputs):
        laterals = [conv(inputs[i + self.start_level]) for i, conv in enumerate(self.lateral_convs)]
        used = len(laterals)
        for i in range(used - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(laterals[i], size=laterals[i - 1].shape[2:],
                                                              mode="nearest")
        inter_outs = [self.fpn_convs[i](laterals[i]) for i in range(used)]
        for i in range(0, used - 1):
            inter_outs[i + 1] = inter_outs[i + 1] + self.downsample_convs[i](inter_outs[i])
        outs = [inter_outs[0]] + [self.pafpn_convs[i - 1](inter_outs[i]) for i in range(1, used)]
        if self.num_outs > len(outs):
            if not self.add_extra_convs:
                for _ in range(self.num_outs - used):
                    outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            else:
                source = {"on_input": inputs[self.backbone_end_level - 1], "on_lateral": laterals[-1],
                          "on_output": outs[-1]}[self.add_extra_convs]
                outs.append(self.fpn_convs[used](source))
                for i in range(used + 1, self.num_outs):
                    x = F.relu(outs[-1]) if self.relu_before_extra_convs else outs[-1]
                    outs.append(self.fpn_convs[i](x))
        return outs


def gen_case(save, case, seed, levels, num_outs, start_level, extra, relu):
    torch.manual_seed(seed)
    neck = PAFPN([INPUTS[l][0] for l in levels], OUT_CHANNELS, num_outs, start_level, extra, relu)
    with torch.no_grad():  # mmdetection starts biases at zero; random ones get tested too
        for name, p in neck.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.randn(p.shape) * 0.1)
    gen = torch.Generator().manual_seed(seed + 1)
    inputs = [torch.randn(2, *INPUTS[l], generator=gen) for l in levels]
    os.makedirs(os.environ["WB_PARITY_DIR"], exist_ok=True)
    export.write_safetensors(os.path.join(os.environ["WB_PARITY_DIR"], case + "_weights.safetensors"),
                             {"neck." + k: v for k, v in neck.state_dict().items()})
    neck = neck.double()
    xs = [x.double().requires_grad_(True) for x in inputs]
    outs = neck(xs)
    rs = [torch.randn(o.shape, generator=gen, dtype=torch.float64) for o in outs]
    sum((o * r).sum() for o, r in zip(outs, rs)).backward()
    first = int(levels[start_level][1:])
    tensors = {l: x for l, x in zip(levels, inputs)}
    tensors.update({f"p{first + i}": o.detach() for i, o in enumerate(outs)})
    tensors.update({f"r{i}": r for i, r in enumerate(rs)})
    tensors.update({"grad:neck." + n: p.grad for n, p in neck.named_parameters()})
    tensors.update({"grad_in:" + l: x.grad for l, x in zip(levels, xs) if x.grad is not None})  # unused: none
    save(case, tensors, num_outs=len(outs), num_params=len(neck.state_dict()))


def generate(save):
    c3_c5 = ["c3", "c4", "c5"]
    gen_case(save, "pafpn_none", 600, c3_c5, 5, 0, False, False)
    gen_case(save, "pafpn_on_input", 610, c3_c5, 5, 0, "on_input", True)
    gen_case(save, "pafpn_on_lateral", 620, c3_c5, 5, 0, "on_lateral", False)
    gen_case(save, "pafpn_on_output", 630, c3_c5, 6, 0, "on_output", True)
    gen_case(save, "pafpn_start1", 640, ["c2"] + c3_c5, 4, 1, "on_output", False)
