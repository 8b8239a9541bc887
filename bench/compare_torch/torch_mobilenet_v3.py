"""torchvision's MobileNetV3-Large timed like `workbench bench --inference` on
bench/compare_torch/mobilenet_v3_large.conf: mobilenet_v3_large().features (up to the last
conv, 960 channels at stride 32), eval mode, then center_head's two branches (3x3 conv to 8
channels, ReLU, 1x1 to 80 class maps and to 4 box maps) and a sigmoid, on random images at a
fixed square size. Prints machine-readable lines: TORCH <name> <value>."""
import argparse
import resource
import statistics
import time

import torch
import torchvision


def branch(out_channels):
    return torch.nn.Sequential(torch.nn.Conv2d(960, 8, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Conv2d(8, out_channels, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mode", choices=["infer"], default="infer")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    features = torchvision.models.mobilenet_v3_large(weights=None).features.eval()
    cls, reg = branch(80).eval(), branch(4).eval()
    images = torch.rand(a.batch, 3, a.size, a.size)
    times = []
    for it in range(a.iters + 1):  # the first iteration is warm-up, as in workbench bench
        t0 = time.perf_counter()
        with torch.no_grad():
            f = features(images)
            torch.sigmoid(cls(f)), reg(f)
        if it > 0:
            times.append(time.perf_counter() - t0)
    ms = 1e3 * sum(times) / len(times)
    print(f"TORCH ms_per_iteration {ms:.1f}")
    print(f"TORCH median_ms {1e3 * statistics.median(times):.1f}")
    print(f"TORCH peak_rss_mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
