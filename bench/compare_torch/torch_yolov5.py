"""YOLOv5's own yolov5s (the `yolov5` 7.0.x package: models/yolo.py Model from yolov5s.yaml, utils/loss.py
ComputeLoss with hyp.scratch-low) timed like `workbench bench`: training iterations (forward, loss,
backward, SGD step) and inference (fused eval forward + non_max_suppression as val.py calls it) at a fixed
square size, random images, one centred box per image. Prints machine-readable lines: TORCH <name> <value>.

The package is found as tools/export_yolov5.py finds it (this interpreter, else the virtual environment
scripts/setup.sh makes); run it with Debian's /usr/bin/python3."""
import argparse
import importlib.util
import os
import resource
import statistics
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_export_tool():
    spec = importlib.util.spec_from_file_location("export_yolov5", os.path.join(ROOT, "tools", "export_yolov5.py"))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def loss_hyp(yolov5, size, nc, nl=3):
    """hyp.scratch-low.yaml with train.py's scaling of the loss gains (levels, classes, image size)."""
    import yaml
    with open(os.path.join(os.path.dirname(yolov5.__file__), "data", "hyps", "hyp.scratch-low.yaml")) as f:
        hyp = yaml.safe_load(f)
    hyp["box"] *= 3 / nl
    hyp["cls"] *= nc / 80 * 3 / nl
    hyp["obj"] *= (size / 640) ** 2 * 3 / nl
    hyp["label_smoothing"] = 0.0
    return hyp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cfg", default="yolov5s.yaml")
    ap.add_argument("--size", type=int, default=640)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mode", choices=["train", "infer"], default="train")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tool = load_export_tool()
    yolov5, why = tool.import_yolov5()
    if yolov5 is None:
        sys.exit(f"torch_yolov5.py: {why}")
    from yolov5.utils.general import non_max_suppression
    from yolov5.utils.loss import ComputeLoss
    # What importing YOLOv5 alone costs (its utils pull in cv2, pandas, matplotlib): part of the peak below.
    print(f"TORCH import_rss_mib {rss_mib():.0f}")
    nc = 80
    model = tool.build_model(yolov5, a.cfg, 0, nc)
    model.hyp = loss_hyp(yolov5, a.size, nc)
    compute_loss = ComputeLoss(model)
    s = a.size
    images = torch.rand(a.batch, 3, s, s)
    # One centred box per image (class 0, half the image each way), YOLOv5's (image, class, x, y, w, h) rows.
    targets = torch.tensor([[i, 0, 0.5, 0.5, 0.5, 0.5] for i in range(a.batch)])
    # As `workbench bench`: an optimizer (and its momentum buffers) only for training; at inference conv + BN
    # folded, as val.py and detect.py load a model (and as workbench infers).
    if a.mode == "train":
        opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)
    else:
        model.eval().fuse()
    times = []
    for it in range(a.iters + 1):  # the first iteration is warm-up, as in workbench bench
        t0 = time.perf_counter()
        if a.mode == "train":
            model.train()
            loss, _ = compute_loss(model(images), targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
        else:
            model.eval()
            with torch.no_grad():
                non_max_suppression(model(images)[0], conf_thres=0.001, iou_thres=0.6, multi_label=True, max_det=300)
        if it > 0:
            times.append(time.perf_counter() - t0)
    print(f"TORCH ms_per_iteration {1e3 * sum(times) / len(times):.1f}")
    print(f"TORCH median_ms {1e3 * statistics.median(times):.1f}")
    print(f"TORCH peak_rss_mib {rss_mib():.0f}")


if __name__ == "__main__":
    main()
