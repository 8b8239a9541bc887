"""Torch parity cases for the region and index ops (ABI 1.3): torchvision's
roi_align and roi_pool, MultiScaleRoIAlign's level mapping (and
mmdetection's finest_scale rule, written out below from its
SingleRoIExtractor.map_roi_levels)."""
import torch
import torchvision
from torchvision.ops import MultiScaleRoIAlign, roi_align, roi_pool


def _grads(out, inputs, dy):
    """Gradients of sum(out * dy); zeros for an input out does not use."""
    grads = torch.autograd.grad(out, inputs, dy, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for t, g in zip(inputs, grads)]


def _rois(n_images, k, extent):
    """k boxes in input pixels over an extent x extent image, some reaching outside it."""
    b = torch.randint(0, n_images, (k, 1)).float()
    xy = torch.rand(k, 2) * extent * 1.2 - extent * 0.1
    wh = torch.rand(k, 2) * extent * 0.6 + 1.0
    return torch.cat([b, xy, xy + wh], 1)


# Boxes on the edges of the rules: fully outside, zero width, inverted, one
# pixel, the whole image and beyond.
def _special_rois(extent):
    e = float(extent)
    return torch.tensor([
        [0, -40.0, -30.0, -20.0, -10.0],
        [1, e + 5, e + 5, e + 30, e + 40],
        [0, 10.0, 10.0, 10.0, 30.0],
        [1, 20.0, 25.0, 12.0, 18.0],
        [0, 5.5, 6.5, 6.5, 7.5],
        [1, 0.0, 0.0, e, e],
        [0, -e, -e, 2 * e, 2 * e],
        [1, e - 3, 0.5, e + 3, e - 0.5],
    ])


def _align_case(save, name, shape, rois, out, scale, sampling, aligned):
    x = torch.randn(shape).requires_grad_()
    y = roi_align(x, rois, out, spatial_scale=scale, sampling_ratio=sampling, aligned=aligned)
    dy = torch.randn(y.shape)
    (dx,) = _grads(y, [x], dy)
    params = torch.tensor([out[0], out[1], scale, sampling, int(aligned)], dtype=torch.float32)
    save(name, {"x": x, "rois": rois, "y": y, "dy": dy, "dx": dx, "params": params})


def _pool_case(save, name, shape, rois, out, scale):
    x = torch.randn(shape).requires_grad_()
    y = roi_pool(x, rois, out, spatial_scale=scale)
    dy = torch.randn(y.shape)
    (dx,) = _grads(y, [x], dy)
    params = torch.tensor([out[0], out[1], scale], dtype=torch.float32)
    save(name, {"x": x, "rois": rois, "y": y, "dy": dy, "dx": dx, "params": params})


def _multiscale_torchvision(save, name, image, channels, sampling):
    """torchvision's own MultiScaleRoIAlign over levels at strides 4..32."""
    names = ["p2", "p3", "p4", "p5"]
    feats = {n: torch.randn(2, channels, image // s, image // s).requires_grad_()
             for n, s in zip(names, (4, 8, 16, 32))}
    boxes = [torch.cat([_rois(1, 9, image)[:, 1:], torch.tensor([[3.0, 3, 9, 11], [0, 0, image, image]])]),
             _rois(1, 7, image)[:, 1:]]
    pooler = MultiScaleRoIAlign(names, 7, sampling)
    y = pooler(feats, boxes, [(image, image)] * 2)
    dy = torch.randn(y.shape)
    grads = _grads(y, [feats[n] for n in names], dy)
    rois = torch.cat([torch.cat([torch.full((len(b), 1), float(i)), b], 1) for i, b in enumerate(boxes)])
    tensors = {"rois": rois, "y": y, "dy": dy, "params": torch.tensor([7, 7, sampling, 0], dtype=torch.float32)}
    for n, g in zip(names, grads):
        tensors[n] = feats[n]
        tensors["d" + n] = g
    save(name, tensors)


def _mmdet_levels(rois, num_levels, finest_scale=56):
    """mmdet SingleRoIExtractor.map_roi_levels."""
    scale = torch.sqrt((rois[:, 3] - rois[:, 1]) * (rois[:, 4] - rois[:, 2]))
    target = torch.floor(torch.log2(scale / finest_scale + 1e-6))
    return target.clamp(min=0, max=num_levels - 1).long()


def _multiscale_mmdet(save, name, image, channels):
    """mmdetection's rule over strides 4..32 with RoIAlign(aligned=True, sampling_ratio=0)."""
    strides = (4, 8, 16, 32)
    feats = [torch.randn(2, channels, image // s, image // s).requires_grad_() for s in strides]
    rois = torch.cat([_rois(2, 14, image), torch.tensor([[0, 0.0, 0, 55.9, 55.9], [1, 0.0, 0, 56, 56],
                                                         [0, 10.0, 10, 10 + 112, 10 + 112],
                                                         [1, 0.0, 0, image, image],
                                                         [0, -100.0, -100, 400, 400]])])
    levels = _mmdet_levels(rois, len(strides))
    y = torch.zeros(len(rois), channels, 7, 7)
    for lvl, s in enumerate(strides):
        sel = (levels == lvl).nonzero().flatten()
        if len(sel):
            y[sel] = roi_align(feats[lvl], rois[sel], 7, spatial_scale=1.0 / s, sampling_ratio=0, aligned=True)
    dy = torch.randn(y.shape)
    grads = _grads(y, feats, dy)
    tensors = {"rois": rois, "y": y, "dy": dy, "levels": levels.float(),
               "params": torch.tensor([7, 7, 0, 1], dtype=torch.float32)}
    for i, (f, g) in enumerate(zip(feats, grads)):
        tensors[f"p{i + 2}"] = f
        tensors[f"dp{i + 2}"] = g
    save(name, tensors)


def generate(save_case):
    def save(name, tensors, **attrs):  # every case of this file is named roi_*
        save_case("roi_" + name, tensors, **attrs)

    assert torchvision.__version__.startswith("0.14"), torchvision.__version__
    extent = 64
    mixed = torch.cat([_rois(2, 12, extent), _special_rois(extent)])
    for aligned in (False, True):
        for sampling in (0, 2):
            for scale in (0.25, 0.125):
                tag = f"align_a{int(aligned)}_s{sampling}_x{int(round(1 / scale))}"
                _align_case(save, tag, (2, 3, int(extent * scale) + 1, int(extent * scale)), mixed, (7, 7),
                            scale, sampling, aligned)
    _align_case(save, "align_rect_out", (2, 2, 13, 9), mixed, (3, 5), 0.2, 0, True)
    _align_case(save, "align_empty", (2, 3, 8, 8), torch.zeros(0, 5), (7, 7), 0.125, 0, False)
    for scale in (0.25, 0.125, 1.0 / 16):
        _pool_case(save, f"pool_x{int(round(1 / scale))}", (2, 3, int(extent * scale) + 2, int(extent * scale)),
                   mixed, (7, 7), scale)
    _pool_case(save, "pool_rect_out", (2, 2, 11, 13), mixed, (2, 3), 0.2)

    _multiscale_torchvision(save, "multiscale_tv_s2", 256, 2, 2)
    _multiscale_torchvision(save, "multiscale_tv_s0", 256, 2, 0)
    _multiscale_mmdet(save, "multiscale_mmdet", 256, 2)
