"""bench/compare_torch: the same detectors in workbench and in PyTorch, one after the other in this
process tree, 2 threads; prints time and memory ratios (ours / torch: below 1.0 means we are faster or
smaller):

- RetinaNet (ResNet-18 and ResNet-50 + FPN, 91 classes) at 512x512, batch 2, against torchvision's;
- FCOS (ResNet-18 and ResNet-50 + FPN, GroupNorm head, 91 classes) at 512x512, batch 2, against torchvision's
  (--models fcos_r18,fcos_r50);
- Faster R-CNN (ResNet-18 and ResNet-50 + FPN, 90 classes + background) at 512x512, batch 2, against
  torchvision's (--models frcnn_r18,frcnn_r50);
- yolov5s (80 classes) at 640x640, batch 4, against YOLOv5 7.0's own Model and ComputeLoss (the
  `yolov5` package of scripts/setup.sh's virtual environment, on Debian's torch).

    /usr/bin/python3 bench/compare_torch/compare.py [--workbench build/bin/workbench] [--iters 5]
        [--models r18,r50,yolov5s] [--passes train,infer] [--amp bf16] [--cpu] [--rounds R]

--cpu adds CPU seconds per timed iteration (user + sys) on each side and their ratio: steadier than wall time on
a shared machine. Each side runs a second time with one timed iteration, and (CPU of --iters iterations - CPU of
one) / (--iters - 1) leaves out start-up, model building and the warm-up iteration.

--rounds R runs both sides R times, alternating, and reports the round whose time ratio is the median, with every
round's ratio: on this machine one round decides little.

--amp bf16 adds, per row, our amp = "bf16" against torch.autocast("cpu", torch.bfloat16) (RetinaNet only):
bf16 / fp32 of ours, and ours / torch in bf16.
"""
import argparse
import os
import re
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RETINANET = os.path.join(ROOT, "configs/retinanet/retinanet_r50_fpn_1x_coco.conf")
FRCNN = os.path.join(ROOT, "configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.conf")
FRCNN_TRAINABLE = ["--set", "model.head.num_classes=90", "--set", 'model.backbone.norm="bn"',
                   "--set", "model.backbone.frozen_stages=-1", "--set", "model.backbone.norm_eval=false"]
# name -> (size, batch, our config and --set arguments, torch script and its arguments, the goals:
# training time, inference time, peak memory ratios)
MODELS = {
    "r18": (512, 2, [RETINANET, "--set", "model.backbone.depth=18", "--set", "model.head.num_classes=91"],
            ["torch_retinanet.py", "--depth", "18"], (0.75, 0.6, 0.6)),
    "r50": (512, 2, [RETINANET, "--set", "model.backbone.depth=50", "--set", "model.head.num_classes=91"],
            ["torch_retinanet.py", "--depth", "50"], (0.75, 0.6, 0.6)),
    # FCOS (issue 13) against torchvision's, every stage trainable with plain BatchNorm on both sides
    "fcos_r18": (512, 2, [os.path.join(HERE, "fcos.conf"), "--set", "model.backbone.depth=18"],
                 ["torch_fcos.py", "--depth", "18"], (0.7, 0.6, 0.6)),
    "fcos_r50": (512, 2, [os.path.join(HERE, "fcos.conf")], ["torch_fcos.py", "--depth", "50"], (0.7, 0.6, 0.6)),
    # Faster R-CNN (issue 12) against torchvision's: every stage trainable with plain BatchNorm on both sides,
    # 90 classes + background (torchvision's 91)
    "frcnn_r18": (512, 2, [FRCNN, *FRCNN_TRAINABLE, "--set", "model.backbone.depth=18"],
                  ["torch_faster_rcnn.py", "--depth", "18"], (0.7, 0.6, 0.6)),
    "frcnn_r50": (512, 2, [FRCNN, *FRCNN_TRAINABLE], ["torch_faster_rcnn.py", "--depth", "50"], (0.7, 0.6, 0.6)),
    "yolov5s": (640, 4, [os.path.join(HERE, "yolov5s.conf")], ["torch_yolov5.py", "--cfg", "yolov5s.yaml"],
                (0.6, 0.5, 0.6)),
    # MobileNetV3-Large features (torchvision's) under a tiny head, inference only (issue 13; no goal given)
    "mnv3_large": (512, 2, [os.path.join(HERE, "mobilenet_v3_large.conf")], ["torch_mobilenet_v3.py"],
                   (None, None, None)),
}


def run_child(cmd, **kw):
    """subprocess.run, returning also the child's CPU seconds (user + sys)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ours_cmd(wb, config, size, batch, mode, a, iters):
    cmd = [wb, "--threads", str(a.threads), "bench", *config, "--size", str(size), "--batch", str(batch),
           "--iters", str(iters)]
    if mode == "infer":
        cmd.append("--inference")
    return cmd


def torch_cmd(script, size, batch, mode, a, iters):
    return ["/usr/bin/python3", os.path.join(HERE, script[0]), *script[1:], "--size", str(size), "--batch",
            str(batch), "--iters", str(iters), "--threads", str(a.threads), "--mode", mode]


def ours(wb, config, size, batch, mode, a, iters=None):
    """(median ms, peak MiB, stdout, CPU seconds of the whole process)"""
    out, cpu = run_child(ours_cmd(wb, config, size, batch, mode, a, iters or a.iters), cwd=ROOT, env=a.env)
    if out.returncode != 0:
        sys.exit(f"workbench bench failed:\n{out.stdout}\n{out.stderr}")
    ms = float(re.search(r"median ([0-9.]+) ms", out.stdout).group(1))
    rss = float(re.search(r"peak memory: ([0-9.]+) MiB", out.stdout).group(1))
    return ms, rss, out.stdout, cpu


def torch(script, size, batch, mode, a, iters=None):
    """(median ms, peak MiB, the TORCH lines' values, CPU seconds of the whole process)"""
    out, cpu = run_child(torch_cmd(script, size, batch, mode, a, iters or a.iters), env=a.env)
    if out.returncode != 0:
        sys.exit(f"{script[0]} failed:\n{out.stdout}\n{out.stderr}")
    vals = dict(re.findall(r"TORCH (\S+) ([0-9.]+)", out.stdout))
    return float(vals["median_ms"]), float(vals["peak_rss_mib"]), vals, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workbench", default=os.path.join(ROOT, "build/bin/workbench"))
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default="r18,r50,yolov5s", help="comma-separated: " + ", ".join(MODELS))
    ap.add_argument("--passes", default="train,infer", help="comma-separated: train, infer (default both)")
    ap.add_argument("--amp", choices=["bf16"], help="also time mixed precision: our amp against torch.autocast")
    ap.add_argument("--wait-policy", choices=["passive", "active", "inherit"], default="passive",
                    help="OMP_WAIT_POLICY of both sides (both use libgomp): on a loaded machine, threads that spin "
                         "at a barrier keep the core from the thread everyone waits for (passive made both sides "
                         "2-4x faster at a load of 8 on 2 cores); 'inherit' leaves the environment as it is")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run both sides this many times, alternating, and report the round of the median time "
                         "ratio with every round's ratio: the machine's speed drifts by up to 25%% within minutes, "
                         "so one round decides little (memory is the last round's)")
    ap.add_argument("--cpu", action="store_true",
                    help="also CPU seconds (user + sys) per timed iteration on each side, from a second run of each "
                         "with one timed iteration (needs --iters >= 2)")
    a = ap.parse_args()
    if a.rounds < 1:
        ap.error("--rounds must be 1 or more")
    if a.cpu and a.iters < 2:
        ap.error("--cpu needs --iters 2 or more (it subtracts a run of one timed iteration)")
    a.env = dict(os.environ)
    if a.wait_policy != "inherit":
        a.env["OMP_WAIT_POLICY"] = a.wait_policy.upper()
    names = a.models.split(",")
    for name in names:
        if name not in MODELS:
            ap.error(f"--models: unknown model '{name}' (known: {', '.join(MODELS)})")
    print(f"{a.threads} threads, OMP_WAIT_POLICY {a.env.get('OMP_WAIT_POLICY', 'unset')}, median of {a.iters} timed iterations after one warm-up; RetinaNet-FPN with 91 "
          f"classes, yolov5s with 80\n")
    print(f"{'model':<10} {'pass':<6} {'size':>5} {'batch':>5} {'ours ms':>9} {'torch ms':>9} {'time ratio':>10} "
          f"{'ours MiB':>9} {'torch MiB':>9} {'mem ratio':>9} {'goals':>12}")
    for name in names:
        size, batch, config, script, goals = MODELS[name]
        for mode, goal in (("train", goals[0]), ("infer", goals[1])):
            if script[0] == "torch_mobilenet_v3.py" and mode == "train":
                continue  # an inference row
            if mode not in a.passes.split(","):
                continue
            goal_text = f"<={goal}/<={goals[2]}" if goal else "none"
            rounds = []  # (ours ms, torch ms) per round, the two sides alternating
            for _ in range(a.rounds):
                o_ms, o_rss, detail, o_cpu = ours(a.workbench, config, size, batch, mode, a)
                t_ms, t_rss, t_vals, t_cpu = torch(script, size, batch, mode, a)
                rounds.append((o_ms, t_ms))
            if a.rounds > 1:  # the round of the median ratio stands for the row
                o_ms, t_ms = sorted(rounds, key=lambda r: r[0] / r[1])[(a.rounds - 1) // 2]
            print(f"{name:<10} {mode:<6} {size:5d} {batch:5d} {o_ms:9.1f} {t_ms:9.1f} {o_ms / t_ms:10.2f} "
                  f"{o_rss:9.0f} {t_rss:9.0f} {o_rss / t_rss:9.2f}   {goal_text}", flush=True)
            if a.rounds > 1:
                print("  time ratio per round (ours ms / torch ms): " +
                      ", ".join(f"{o / t:.2f} ({o:.0f}/{t:.0f})" for o, t in rounds), flush=True)
            if a.cpu:  # (CPU of --iters timed iterations - CPU of one) / (--iters - 1)
                o_cpu = (o_cpu - ours(a.workbench, config, size, batch, mode, a, 1)[3]) / (a.iters - 1)
                t_cpu = (t_cpu - torch(script, size, batch, mode, a, 1)[3]) / (a.iters - 1)
                print(f"  CPU per iteration (user + sys): ours {o_cpu:.2f} s, torch {t_cpu:.2f} s, "
                      f"ratio {o_cpu / t_cpu:.2f}", flush=True)
            if "import_rss_mib" in t_vals:
                print(f"  torch's peak includes {float(t_vals['import_rss_mib']):.0f} MiB resident after importing "
                      f"yolov5 alone")
            if a.amp and script[0] == "torch_retinanet.py":
                ob_ms, ob_rss, _, _ = ours(a.workbench, config + ["--set", f'amp="{a.amp}"'], size, batch, mode, a)
                tb_ms, tb_rss, _, _ = torch(script + ["--amp", a.amp], size, batch, mode, a)
                print(f"  amp {a.amp}: ours {ob_ms:.1f} ms ({ob_ms / o_ms:.2f}x our fp32, {ob_rss:.0f} MiB), torch "
                      f"autocast {tb_ms:.1f} ms ({tb_ms / t_ms:.2f}x torch fp32, {tb_rss:.0f} MiB); ours / torch "
                      f"in {a.amp}: {ob_ms / tb_ms:.2f} (goal: inference in {a.amp} <= 0.6x our fp32)", flush=True)
            if mode == "train":
                print("  where our time goes:\n" + "\n".join("    " + l for l in detail.splitlines()[2:9]))
    print("\nGoals (time ratio train/infer, memory ratio): RetinaNet (issue 4) <= 0.75/0.6, 0.6; YOLOv5 (issue 11) "
          "<= 0.6/0.5, 0.6.")


if __name__ == "__main__":
    main()
