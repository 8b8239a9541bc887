"""torchvision's FCOS (ResNet-18 or -50 + FPN, 91 classes) timed exactly as
torch_retinanet.py times RetinaNet (its loop, images, targets, optimizer and
output lines): only the model differs. torchvision's fcos_resnet50_fpn with no
weights trains every stage with plain BatchNorm, as bench/compare_torch/fcos.conf."""
import os
import sys

import torchvision
from torchvision.models.detection import FCOS
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.ops.feature_pyramid_network import LastLevelP6P7

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_retinanet  # noqa: E402


def build(depth, num_classes, size):
    if depth == 50:
        return torchvision.models.detection.fcos_resnet50_fpn(
            weights=None, weights_backbone=None, num_classes=num_classes, min_size=size, max_size=size)
    backbone = resnet_fpn_backbone(backbone_name=f"resnet{depth}", weights=None, trainable_layers=5,
                                   returned_layers=[2, 3, 4], extra_blocks=LastLevelP6P7(256, 256))
    return FCOS(backbone, num_classes=num_classes, min_size=size, max_size=size)


if __name__ == "__main__":
    torch_retinanet.build = build
    torch_retinanet.main()
