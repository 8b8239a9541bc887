"""torchvision's RetinaNet R-50-FPN on the GPU, timed like `workbench bench`: training iterations (forward,
losses, backward, SGD step) or inference (forward + postprocess) on random images of one size with one
centred box each, the first iteration untimed. --amp bf16 runs the forward under
torch.autocast("cuda", torch.bfloat16). Every timed iteration ends with torch.cuda.synchronize().
Prints TORCH <name> <value> lines."""
import argparse
import contextlib
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compare_torch"))
from torch_retinanet import build  # noqa: E402  (the CPU comparison's model, same classes and layers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=768)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--mode", choices=["train", "infer"], default="train")
    ap.add_argument("--amp", choices=["none", "bf16"], default="none")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("torch sees no CUDA device")
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True  # what torchvision's reference training scripts leave on
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if a.amp == "bf16" else contextlib.nullcontext
    torch.manual_seed(0)
    model = build(50, 91, a.height)
    # torchvision resizes so the short side is min_size unless the long side would pass max_size: this keeps
    # HxW as given.
    model.transform.min_size = (a.height,)
    model.transform.max_size = a.width
    model.to(dev)
    images = [torch.rand(3, a.height, a.width, device=dev) for _ in range(a.batch)]
    w, h = a.width, a.height
    box = torch.tensor([[w * 0.25, h * 0.25, w * 0.75, h * 0.75]], device=dev)
    targets = [{"boxes": box, "labels": torch.tensor([1], device=dev)} for _ in range(a.batch)]
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)
    times = []
    for it in range(a.iters + 1):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        if a.mode == "train":
            model.train()
            with autocast():
                loss = sum(model(images, targets).values())
            opt.zero_grad()
            loss.backward()
            opt.step()
        else:
            model.eval()
            with torch.no_grad(), autocast():
                model(images)
        torch.cuda.synchronize()
        if it > 0:
            times.append(time.perf_counter() - t0)
    print(f"TORCH device {torch.cuda.get_device_name().replace(' ', '_')}")
    print(f"TORCH median_ms {1e3 * statistics.median(times):.1f}")
    print(f"TORCH peak_gpu_mib {torch.cuda.max_memory_allocated() / 2**20:.0f}")


if __name__ == "__main__":
    main()
