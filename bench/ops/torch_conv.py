"""PyTorch side of bench_ops: times conv2d forward, backward-data and
backward-weights on the shapes bench_ops writes to stdin (it waits for our
answer before timing its own kernels), one per line:
  index n c_in h w c_out k_h k_w stride_h stride_w pad_h pad_w dil_h dil_w groups
and prints one machine-readable line per (shape, pass):
  TORCH <index> <fwd|bwd_data|bwd_weights> <best ms of the repetitions>
Run by bench_ops with /usr/bin/python3 (Debian's torch)."""
import argparse
import sys
import time

import torch
import torch.nn.functional as F


def best_ms(fn, reps):
    fn()  # warm-up: primitive creation and first-touch allocations
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return min(times)


def bench_shape(fields, reps):
    idx, n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups = fields
    x = torch.rand(n, cin, h, w) - 0.5
    wt = torch.rand(cout, cin // groups, kh, kw) - 0.5
    b = torch.rand(cout) - 0.5
    conv = dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=groups)
    with torch.no_grad():
        y = F.conv2d(x, wt, b, **conv)
        dy = torch.rand_like(y) - 0.5

        def backward(mask):
            return lambda: torch.ops.aten.convolution_backward(
                dy, x, wt, [cout], [sh, sw], [ph, pw], [dh, dw], False, [0, 0], groups, mask)

        passes = {
            "fwd": lambda: F.conv2d(x, wt, b, **conv),
            "bwd_data": backward([True, False, False]),
            "bwd_weights": backward([False, True, True]),
        }
        for name, fn in passes.items():
            print(f"TORCH {idx} {name} {best_ms(fn, reps):.4f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for line in sys.stdin:
        if line.strip():
            bench_shape([int(v) for v in line.split()], args.reps)


if __name__ == "__main__":
    main()
