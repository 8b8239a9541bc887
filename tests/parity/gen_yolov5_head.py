"""yolov5_head parity cases against YOLOv5 7.0's own Detect, ComputeLoss and non_max_suppression.

The yolov5 package is found as in gen_yolov5.py (tools/export_yolov5.py imports it); without it nothing is
written here (gen_yolov5.py writes yolov5_unavailable, which the C test reads). Whole models (backbone, neck,
Detect) are built from yolov5n.yaml (3 classes) and yolov5s.yaml (80 classes) with seeded random weights and
randomised BN, and exported with tools/export_yolov5.py to <m>_head_weights.safetensors. Detect's convs are
scaled by DETECT_SCALE so that its logits stay in the range where sigmoids are not saturated (random eval-mode
features reach a few hundred). References are float64.

Cases, for <m> in yolov5n, yolov5s:
  <m>_head_eval:  eval mode, x [1,3,256,320] -> pred0..2, the raw Detect conv maps [1, 3*(5+K), H, W]
  <m>_head_loss:  train mode, x [2,3,128,160] and boxes (x1,y1,x2,y2 px, labels per image); YOLOv5's
                  ComputeLoss with the hyp below scaled as train.py (nl 3, nc, imgsz 160): loss_box, loss_obj,
                  loss_cls (YOLOv5's items times the batch size) and loss (the total), and "grad:<name>" of
                  every Detect conv weight and bias after backward of the total
  yolov5n_head_dets: two images (200x300 and 260x180) letterboxed to 256x256 by YOLOv5's letterbox, eval
                  mode, non_max_suppression(conf 0.001, IoU 0.6, multi_label, max_det 300) and scale_boxes
                  back to the original images: det_boxes<i>, det_scores<i>, det_labels<i>, with r<i>, dw<i>,
                  dh<i> attributes
"""
import copy
import importlib.util
import os

import numpy as np
import torch

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_yolov5.py")
_spec = importlib.util.spec_from_file_location("export_yolov5", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

MODELS = {"yolov5n": (30, 3), "yolov5s": (40, 80)}  # name -> seed, classes
DETECT_SCALE = 0.05
# hyp.scratch-low.yaml's loss keys; the yolov5s case turns on the options.
HYPS = {"yolov5n": dict(box=0.05, obj=1.0, cls=0.5, cls_pw=1.0, obj_pw=1.0, anchor_t=4.0, fl_gamma=0.0,
                        label_smoothing=0.0),
        "yolov5s": dict(box=0.05, obj=1.0, cls=0.5, cls_pw=0.8, obj_pw=1.3, anchor_t=4.0, fl_gamma=1.5,
                        label_smoothing=0.1)}
LOSS_SIZE = (128, 160)  # h, w
# Boxes x1, y1, x2, y2 (px of the 160x128 input) and labels: sizes from 6 to 150 px, centres near the borders
# (cells clamped, neighbours left out) and in the middle.
BOXES = [[[10.0, 12.0, 40.0, 50.0], [60.3, 20.7, 140.9, 120.2], [2.0, 3.0, 9.5, 11.0], [100.0, 70.0, 158.0, 126.0],
          [30.2, 80.6, 46.1, 92.3]],
         [[5.0, 40.0, 155.0, 125.0], [70.0, 50.0, 82.0, 69.0], [121.7, 2.2, 159.0, 30.9]]]
LABELS = [[0, 2, 1, 1, 2], [2, 0, 1]]
DET_IMAGES = [(200, 300), (260, 180)]  # original h, w
DET_SIZE = 256


def parity_dir():
    out = os.environ["WB_PARITY_DIR"]
    os.makedirs(out, exist_ok=True)
    return out


def build(yolov5, name):
    seed, nc = MODELS[name]
    model = export.build_model(yolov5, name + ".yaml", seed, nc)
    calibration = torch.randn(2, 3, 128, 128, generator=torch.Generator().manual_seed(seed + 2))
    export.randomize_batch_norm(model, torch.Generator().manual_seed(seed + 1), calibration)
    with torch.no_grad():
        for conv in model.model[export.DETECT_LAYER].m:
            conv.weight.mul_(DETECT_SCALE)
    model.eval()
    export.write_safetensors(os.path.join(parity_dir(), name + "_head_weights.safetensors"),
                             export.workbench_state(model.model, head=True))
    return model


def detect_conv_outputs(model, x):
    """The raw maps of Detect's 1x1 convs (before YOLOv5's view and permute)."""
    seen = []
    hooks = [m.register_forward_hook(lambda module, args, out: seen.append(out))
             for m in model.model[export.DETECT_LAYER].m]
    try:
        out = model(x)
    finally:
        for h in hooks:
            h.remove()
    return seen, out


def gen_eval(save, model, name, seed):
    x = torch.randn(1, 3, 256, 320, generator=torch.Generator().manual_seed(seed + 6))
    with torch.no_grad():
        maps, _ = detect_conv_outputs(copy.deepcopy(model).double().eval(), x.double())
    save(f"{name}_head_eval", {"x": x, **{f"pred{i}": m.float() for i, m in enumerate(maps)}})


def yolo_targets(h, w):
    """YOLOv5's targets (image, class, x, y, w, h normalised) of BOXES."""
    rows = []
    for i, (boxes, labels) in enumerate(zip(BOXES, LABELS)):
        for (x1, y1, x2, y2), c in zip(boxes, labels):
            rows.append([i, c, (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h])
    return torch.tensor(rows, dtype=torch.float64)


def gen_loss(save, yolov5, model, name, seed):
    from yolov5.utils.loss import ComputeLoss
    nc = MODELS[name][1]
    model = copy.deepcopy(model).double().train()
    hyp = dict(HYPS[name])
    h, w = LOSS_SIZE
    hyp["box"] *= 3 / 3  # train.py: 3 / nl
    hyp["cls"] *= nc / 80 * 3 / 3
    hyp["obj"] *= (w / 640) ** 2 * 3 / 3  # imgsz = the training size (160)
    model.hyp = hyp
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(seed + 7), dtype=torch.float64)
    preds = model(x)
    total, items = ComputeLoss(model)(preds, yolo_targets(h, w))
    total.backward()
    bs = x.shape[0]
    tensors = {"x": x.float(), "loss": total.detach().float().reshape(1)}
    tensors.update({k: (items[i] * bs).float().reshape(1) for i, k in enumerate(["loss_box", "loss_obj", "loss_cls"])})
    for i, (boxes, labels) in enumerate(zip(BOXES, LABELS)):
        tensors[f"boxes{i}"] = torch.tensor(boxes)
        tensors[f"labels{i}"] = torch.tensor(labels, dtype=torch.float32)
    for k, v in model.named_parameters():
        if k.startswith(f"model.{export.DETECT_LAYER}."):
            tensors["grad:" + export.workbench_name(k, model.model, head=True)] = v.grad.float()
    save(f"{name}_head_loss", tensors, **{k: float(v) for k, v in HYPS[name].items()})


def gen_dets(save, yolov5, model, name, seed):
    from yolov5.utils.augmentations import letterbox
    from yolov5.utils.general import non_max_suppression, scale_boxes
    rng = np.random.default_rng(seed + 8)
    images, geometry = [], []
    for h0, w0 in DET_IMAGES:
        im0 = rng.integers(0, 256, (h0, w0, 3), dtype=np.uint8)
        im, (r, _), (dw, dh) = letterbox(im0, DET_SIZE, auto=False)
        images.append(torch.from_numpy(im[:, :, ::-1].transpose(2, 0, 1).copy()).float() / 255.0)
        geometry.append((h0, w0, r, dw, dh))
    x = torch.stack(images)
    with torch.no_grad():
        pred = copy.deepcopy(model).double().eval()(x.double())[0]
    dets = non_max_suppression(pred, conf_thres=0.001, iou_thres=0.6, multi_label=True, max_det=300)
    tensors, attrs = {"x": x}, {}
    for i, (det, (h0, w0, r, dw, dh)) in enumerate(zip(dets, geometry)):
        boxes = scale_boxes(x.shape[2:], det[:, :4].clone(), (h0, w0), ((r, r), (dw, dh)))
        tensors[f"det_boxes{i}"] = boxes.float()
        tensors[f"det_scores{i}"] = det[:, 4].float()
        tensors[f"det_labels{i}"] = det[:, 5].float()
        attrs.update({f"h{i}": h0, f"w{i}": w0, f"r{i}": r, f"dw{i}": dw, f"dh{i}": dh, f"num_dets{i}": len(det)})
    save(f"{name}_head_dets", tensors, **attrs)


def generate(save):
    yolov5, why = export.import_yolov5()
    if yolov5 is None:
        print(f"gen_yolov5_head: not written: {why}")
        return
    for name, (seed, _) in MODELS.items():
        model = build(yolov5, name)
        gen_eval(save, model, name, seed)
        gen_loss(save, yolov5, model, name, seed)
        if name == "yolov5n":
            gen_dets(save, yolov5, model, name, seed)
