"""Bilinear resize parity for core/data transforms: torch interpolate with
align_corners=False is the half-pixel formula cv2/mmcv use for 'bilinear'."""
import torch
import torch.nn.functional as F


def generate(save):
    g = torch.Generator().manual_seed(3)
    h, w = 37, 53
    img = torch.randint(0, 256, (h, w, 3), generator=g).float()  # HWC like the core's samples
    chw = img.permute(2, 0, 1).unsqueeze(0)
    out = {}
    for name, (oh, ow) in {"down": (20, 29), "up": (80, 61)}.items():
        r = F.interpolate(chw, size=(oh, ow), mode="bilinear", align_corners=False)
        out[name] = r[0].permute(1, 2, 0).contiguous()
    # sizes as a tensor: [h, w, down_h, down_w, up_h, up_w]
    sizes = torch.tensor([h, w, 20, 29, 80, 61], dtype=torch.float32)
    save("transforms_resize", {"input": img, "sizes": sizes, **out})
