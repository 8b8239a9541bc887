"""PyTorch side of bench_ops's detection rows: times torchvision's roi_align /
roi_pool and torch's group norm, forward and backward (the ops' own backward
kernels, without autograd bookkeeping), on the rows bench_ops writes to stdin:
  index kind n c h w k out sampling aligned scale groups
(kind 0 roi_align, 1 roi_pool, 2 group_norm), and prints
  TORCH <index> <fwd|bwd> <best ms of the repetitions>
The RoIs follow det_ops.c's formula, so both sides pool the same boxes."""
import argparse
import sys
import time

import torch
import torchvision  # noqa: F401  (registers torch.ops.torchvision)


def best_ms(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return min(times)


def make_rois(n, h, w, k, scale):
    img_h, img_w = h / scale, w / scale
    rows = []
    for i in range(k):
        fx, fy = (i * 7919) % 1000 / 1000.0, (i * 104729) % 1000 / 1000.0
        fw, fh = (i * 1299709) % 1000 / 1000.0, (i * 15485863) % 1000 / 1000.0
        x1, y1 = fx * 0.7 * img_w, fy * 0.7 * img_h
        rows.append([i % n, x1, y1, x1 + 16.0 + fw * 0.4 * img_w, y1 + 16.0 + fh * 0.4 * img_h])
    return torch.tensor(rows, dtype=torch.float64).float()


def bench_row(fields, reps):
    idx, kind, n, c, h, w, k, out, sampling, aligned = (int(v) for v in fields[:10])
    scale, groups = float(fields[10]), int(fields[11])
    x = torch.rand(n, c, h, w) - 0.5
    ops = torch.ops.torchvision
    with torch.no_grad():
        if kind == 0:
            rois = make_rois(n, h, w, k, scale)
            y = ops.roi_align(x, rois, scale, out, out, sampling, bool(aligned))
            dy = torch.rand_like(y) - 0.5
            fwd = lambda: ops.roi_align(x, rois, scale, out, out, sampling, bool(aligned))  # noqa: E731
            bwd = lambda: ops._roi_align_backward(dy, rois, scale, out, out, n, c, h, w, sampling,  # noqa: E731
                                                  bool(aligned))
        elif kind == 1:
            rois = make_rois(n, h, w, k, scale)
            y, argmax = ops.roi_pool(x, rois, scale, out, out)
            dy = torch.rand_like(y) - 0.5
            fwd = lambda: ops.roi_pool(x, rois, scale, out, out)  # noqa: E731
            bwd = lambda: ops._roi_pool_backward(dy, rois, argmax, scale, out, out, n, c, h, w)  # noqa: E731
        else:
            gamma, beta = torch.rand(c) + 0.5, torch.rand(c) - 0.5
            y, mean, rstd = torch.ops.aten.native_group_norm(x, gamma, beta, n, c, h * w, groups, 1e-5)
            dy = torch.rand_like(y) - 0.5
            fwd = lambda: torch.ops.aten.native_group_norm(x, gamma, beta, n, c, h * w, groups, 1e-5)  # noqa: E731
            bwd = lambda: torch.ops.aten.native_group_norm_backward(  # noqa: E731
                dy, x, mean, rstd, gamma, n, c, h * w, groups, [True, True, True])
        for name, fn in (("fwd", fwd), ("bwd", bwd)):
            print(f"TORCH {idx} {name} {best_ms(fn, reps):.4f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for line in sys.stdin:
        if line.strip():
            bench_row(line.split(), args.reps)


if __name__ == "__main__":
    main()
