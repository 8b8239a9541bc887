#!/usr/bin/env bash
# End to end: `workbench evolve` runs 3 generations of 1 short epoch each (the tiny detector on 256 synthetic
# images, 32 iterations, from a hyp file without warmup so that the runs learn something), writes evolve.csv with YOLOv5's columns (read back as YOLOv5 reads it: numpy.loadtxt, pandas with
# skipinitialspace) and hyp_evolve.yaml; SIGTERM during generation 2 stops it with 143 leaving generation 1's
# row, and the same command again continues with generation 2 (the same mutated hyperparameters) to 3.
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$src"
source tests/e2e/expect_fail.sh
exp=configs/tiny/center_tiny_synthetic.conf
printf 'lr0: 0.02\nmomentum: 0.9\nweight_decay: 0.0001\nwarmup_epochs: 0\n' >"$out/start.yaml"
args=(--threads 1 evolve "$exp" --generations 3 --epochs 1 --hyp "$out/start.yaml" --work-dir "$out/evo"
      --set data.val.dataset.num_images=16)

echo "== usage errors"
expect_fail 2 "--generations N is required" "$out/usage1.txt" -- "$wb" evolve "$exp"
expect_fail 2 "--resume is not an evolve option" "$out/usage2.txt" -- "$wb" evolve "$exp" --generations 2 --resume
expect_fail 2 "this experiment counts iterations (schedule.by_epoch = false)" "$out/usage4.txt" -- \
  "$wb" evolve "$exp" --generations 2 --epochs 1 --set schedule.by_epoch=false --set schedule.max_iters=10
cat >"$out/noval.conf" <<CONF
@include "$src/configs/_base_/default_runtime.conf"
data = { train = { dataset = { type = "synthetic"; num_images = 16; image_size = 128; num_classes = 3; }; }; };
model = { backbone = { type = "tiny_cnn"; }; head = { type = "center_head"; num_classes = 3; }; };
CONF
expect_fail 2 "the experiment has no data.val" "$out/usage5.txt" -- "$wb" evolve "$out/noval.conf" --generations 1
printf 'lr0: 0.02\nlabel_smoothing: 0.1\n' >"$out/bad_hyp.yaml"
expect_fail 2 "bad_hyp.yaml:2: 'label_smoothing' is not one of the hyperparameters" "$out/usage3.txt" -- \
  "$wb" evolve "$exp" --generations 1 --hyp "$out/bad_hyp.yaml" --work-dir "$out/bad"

echo "== generation 2 stopped by SIGTERM"
"$wb" "${args[@]}" >"$out/part1.txt" 2>&1 &
pid=$!
for _ in $(seq 600); do  # until generation 2's run has written its first log line
  [ -s "$out/evo/gen_2/log.json" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
test -s "$out/evo/gen_2/log.json" || { cat "$out/part1.txt"; echo "generation 2 never started"; exit 1; }
cp "$out/evo/gen_2/hyp.yaml" "$out/gen_2_hyp_before.yaml"
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 143 ] || { cat "$out/part1.txt"; echo "evolve stopped with $rc, expected 143"; exit 1; }
grep -q "stopped during generation 2" "$out/part1.txt"
[ "$(wc -l <"$out/evo/evolve.csv")" -eq 2 ] || { cat "$out/evo/evolve.csv"; echo "expected the header and 1 row"; exit 1; }
test -f "$out/evo/gen_2/interrupted.safetensors"

echo "== the same command continues"
"$wb" "${args[@]}" >"$out/part2.txt" 2>&1 || { cat "$out/part2.txt"; exit 1; }
grep -q "holds 1 generation: continuing with generation 2 of 3" "$out/part2.txt"
! grep -q "generation 1 of 3" "$out/part2.txt"
cmp "$out/gen_2_hyp_before.yaml" "$out/evo/gen_2/hyp.yaml"
echo "generation 2 trained again with the hyperparameters it had before the stop"

/usr/bin/python3 - "$out/evo" <<'PY'
import json, sys
import numpy as np
import pandas as pd
evo = sys.argv[1]
results = ["metrics/precision", "metrics/recall", "metrics/mAP_0.5", "metrics/mAP_0.5:0.95", "val/box_loss",
           "val/obj_loss", "val/cls_loss"]
hyps = ["lr0", "lrf", "momentum", "weight_decay", "warmup_epochs", "warmup_momentum", "warmup_bias_lr", "box", "cls",
        "cls_pw", "obj", "obj_pw", "iou_t", "anchor_t", "fl_gamma", "hsv_h", "hsv_s", "hsv_v", "degrees", "translate",
        "scale", "shear", "perspective", "flipud", "fliplr", "mosaic", "mixup", "copy_paste", "anchors"]
# YOLOv5 train.py (parents) and print_mutation (hyp_evolve.yaml) read it so
x = np.loadtxt(f"{evo}/evolve.csv", ndmin=2, delimiter=",", skiprows=1)
data = pd.read_csv(f"{evo}/evolve.csv", skipinitialspace=True).rename(columns=lambda c: c.strip())
assert list(data.columns) == results + hyps, list(data.columns)
assert x.shape == (3, 36), x.shape
with open(f"{evo}/evolve.csv") as f:
    header = f.readline().rstrip("\n").split(",")
assert all(len(c) == 20 for c in header), "YOLOv5 right-aligns each name in 20 characters"
start = [0.02, 0.01, 0.9, 0.0001, 0.0, 0.8, 0.1, 0.05, 0.5, 1.0, 1.0, 1.0, 0.2, 4.0, 0.0, 0.015, 0.7, 0.4, 0.0, 0.1,
         0.5, 0.0, 0.0, 0.0, 0.5, 1.0, 0.0, 0.0, 3.0]
assert np.allclose(x[0, 7:], start), "generation 1 trains hyp.scratch-low's values with start.yaml's"
for g in (1, 2):
    assert not np.allclose(x[g, 7:], x[0, 7:]), f"generation {g + 1} is not mutated"
    for k in ("iou_t", "fl_gamma", "perspective", "fliplr"):  # gain 0 in YOLOv5's meta
        assert x[g, 7 + hyps.index(k)] == x[0, 7 + hyps.index(k)], f"{k} mutated"
bounds = {"lr0": (1e-5, 0.1), "momentum": (0.6, 0.98), "anchors": (2.0, 10.0), "hsv_h": (0.0, 0.1)}
for k, (lo, hi) in bounds.items():
    assert (x[:, 7 + hyps.index(k)] >= lo).all() and (x[:, 7 + hyps.index(k)] <= hi).all(), k
for g in range(3):  # the results are the last validation of each generation's run, as logged
    val = [json.loads(l) for l in open(f"{evo}/gen_{g + 1}/log.json") if '"val"' in l][-1]
    # YOLOv5's ap_per_class mAPs where the run logs them, else COCO's
    map50, map5095 = val.get("mAP_0.5", val["bbox_mAP_50"]), val.get("mAP_0.5:0.95", val["bbox_mAP"])
    assert abs(x[g, 2] - map50) <= 1e-4 * max(1, map50), (x[g, 2], val)
    assert abs(x[g, 3] - map5095) <= 1e-4 * max(1, map5095), (x[g, 3], val)
    for c, key in ((0, "precision"), (1, "recall")):  # YOLOv5's ap_per_class, where the run logs it
        assert abs(x[g, c] - val.get(key, 0.0)) <= 1e-4, (c, x[g, c], val)
    hyp = dict(l.split(": ") for l in open(f"{evo}/gen_{g + 1}/hyp.yaml") if not l.startswith("#"))
    assert np.allclose([float(hyp[k]) for k in hyps], x[g, 7:], rtol=1e-4), g
fit = x[:, 2] * 0.1 + x[:, 3] * 0.9  # YOLOv5's fitness
best = int(np.argmax(fit))
lines = open(f"{evo}/hyp_evolve.yaml").read().splitlines()
assert f"# Best generation: {best + 1} of 3" in lines, lines[:3]
hyp = dict(l.split(": ") for l in lines if l and not l.startswith("#"))
assert list(hyp) == hyps and np.allclose([float(v) for v in hyp.values()], x[best, 7:], rtol=1e-4)
assert fit[0] > 0.01, "the first generation learned nothing: the test cannot tell parents apart"
print(f"evolve.csv: 3 generations, fitness {', '.join(f'{v:.4f}' for v in fit)}; best generation {best + 1}")
PY
echo "evolve e2e passed"
