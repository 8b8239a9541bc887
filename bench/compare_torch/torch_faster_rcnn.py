"""torchvision's Faster R-CNN (ResNet-FPN) timed like `workbench bench`:
training iterations (forward, RPN and RoI losses, backward, SGD step) and
inference (forward + postprocess) at a fixed square size, random images, one
centred box per image; every backbone stage trainable with plain BatchNorm
(torchvision's builder without pretrained weights), as the workbench side is
configured in compare.py. Prints machine-readable lines: TORCH <name> <value>.

torch's Linear layers call the system BLAS (libblas.so.3): Debian's default is
the reference netlib one, on which the box head's 12544 x 1024 fc6 alone takes
some 20 s per training iteration, so the script refuses to time on it."""
import argparse
import os
import resource
import statistics
import sys
import time

import torch
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone


def build(depth, num_classes, size):
    backbone = resnet_fpn_backbone(backbone_name=f"resnet{depth}", weights=None, norm_layer=torch.nn.BatchNorm2d,
                                   trainable_layers=5, returned_layers=[1, 2, 3, 4])
    return FasterRCNN(backbone, num_classes=num_classes, min_size=size, max_size=size)


def loaded_blas():
    """The path of the libblas.so.3 this process mapped (torch links it), or None."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if os.path.basename(path).startswith("libblas.so"):
                return os.path.realpath(path)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mode", choices=["train", "infer"], default="train")
    a = ap.parse_args()
    blas = loaded_blas()
    if blas and "openblas" not in blas and "mkl" not in blas and "blis" not in blas:
        print(f"torch_faster_rcnn.py: torch's BLAS is {blas} (the reference implementation): its Linear layers "
              f"would be 10-20x slower than with an optimized BLAS and flatter the comparison. Install "
              f"libopenblas0-pthread, or extract it (apt-get download; dpkg -x) and run with LD_LIBRARY_PATH=<its "
              f"usr/lib/x86_64-linux-gnu/openblas-pthread> OPENBLAS_NUM_THREADS=<threads> (bench/README.md)",
              file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = build(a.depth, 91, a.size)
    images = [torch.rand(3, a.size, a.size) for _ in range(a.batch)]
    s = a.size
    targets = [{"boxes": torch.tensor([[s * 0.25, s * 0.25, s * 0.75, s * 0.75]]), "labels": torch.tensor([1])}
               for _ in range(a.batch)]
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)
    times = []
    for it in range(a.iters + 1):  # the first iteration is warm-up, as in workbench bench
        t0 = time.perf_counter()
        if a.mode == "train":
            model.train()
            losses = model(images, targets)
            loss = sum(losses.values())
            opt.zero_grad()
            loss.backward()
            opt.step()
        else:
            model.eval()
            with torch.no_grad():
                model(images)
        if it > 0:
            times.append(time.perf_counter() - t0)
    ms = 1e3 * sum(times) / len(times)
    print(f"TORCH ms_per_iteration {ms:.1f}")
    print(f"TORCH ms_per_image {ms / a.batch:.1f}")
    print(f"TORCH median_ms {1e3 * statistics.median(times):.1f}")
    print(f"TORCH peak_rss_mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
