"""bench/compare_torch: the same RetinaNet (ResNet-18 and ResNet-50 + FPN,
91 classes) at 512x512, batch 2, 2 threads, in workbench and in torchvision,
one after the other in this process tree; prints time and memory ratios
(ours / torch: below 1.0 means we are faster or smaller).

    /usr/bin/python3 bench/compare_torch/compare.py [--workbench build/bin/workbench] [--iters 5]
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONFIG = os.path.join(ROOT, "configs/retinanet/retinanet_r50_fpn_1x_coco.conf")


def ours(wb, depth, mode, a):
    cmd = [wb, "--threads", str(a.threads), "bench", CONFIG, "--size", str(a.size), "--batch", str(a.batch),
           "--iters", str(a.iters), "--set", f"model.backbone.depth={depth}", "--set", "model.head.num_classes=91"]
    if mode == "infer":
        cmd.append("--inference")
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"workbench bench failed:\n{out.stdout}\n{out.stderr}")
    ms = float(re.search(r"([0-9.]+) ms per iteration", out.stdout).group(1))
    rss = float(re.search(r"peak memory: ([0-9.]+) MiB", out.stdout).group(1))
    return ms, rss, out.stdout


def torch(depth, mode, a):
    cmd = ["/usr/bin/python3", os.path.join(HERE, "torch_retinanet.py"), "--depth", str(depth), "--size", str(a.size),
           "--batch", str(a.batch), "--iters", str(a.iters), "--threads", str(a.threads), "--mode", mode]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"torch_retinanet.py failed:\n{out.stderr}")
    vals = dict(re.findall(r"TORCH (\S+) ([0-9.]+)", out.stdout))
    return float(vals["ms_per_iteration"]), float(vals["peak_rss_mib"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workbench", default=os.path.join(ROOT, "build/bin/workbench"))
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--depths", default="18,50")
    a = ap.parse_args()
    print(f"RetinaNet-FPN, 91 classes, {a.size}x{a.size}, batch {a.batch}, {a.threads} threads, "
          f"{a.iters} timed iterations after one warm-up\n")
    print(f"{'model':<10} {'pass':<10} {'ours ms':>9} {'torch ms':>9} {'time ratio':>10} "
          f"{'ours MiB':>9} {'torch MiB':>9} {'mem ratio':>9}")
    for depth in [int(d) for d in a.depths.split(",")]:
        for mode in ("train", "infer"):
            o_ms, o_rss, detail = ours(a.workbench, depth, mode, a)
            t_ms, t_rss = torch(depth, mode, a)
            print(f"{'R-' + str(depth):<10} {mode:<10} {o_ms:9.1f} {t_ms:9.1f} {o_ms / t_ms:10.2f} "
                  f"{o_rss:9.0f} {t_rss:9.0f} {o_rss / t_rss:9.2f}", flush=True)
            if mode == "train":
                print("  where our time goes:\n" + "\n".join("    " + l for l in detail.splitlines()[2:9]))
    print("\nGoals (issue 4): training time ratio <= 0.75, inference <= 0.6, peak memory <= 0.6.")


if __name__ == "__main__":
    main()
