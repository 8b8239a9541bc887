#!/usr/bin/env bash
# End to end: YOLOv5's optimisation recipe through `workbench run` on the tiny detector (8 images a batch, 32
# iterations an epoch): nominal batch 22 (accumulate 3, ramped up over a warmup of round(1.5 x 32) = 48
# iterations that crosses the epoch end), warmup of momentum and of the biases' lr, linear lf, ModelEMA with
# buffers, a frozen stage. A run stopped after epoch 1 and resumed ends with exactly the weights of the
# uninterrupted 2-epoch run (the step positions are replayed from the iteration numbers); the EMA took as many
# updates as train.py's rule gives; frozen weights do not move while their BN statistics do; and the refusals.
set -euo pipefail
wb=$1 src=$2 out=$3
. "$src/tests/e2e/expect_fail.sh"
exp=configs/tiny/center_tiny_synthetic.conf
rm -rf "$out" && mkdir -p "$out"
cd "$src"

recipe=(--set optimizer.nbs=22 --set optimizer.nesterov=true --set optimizer.momentum=0.937
        --set schedule.policy=\"linear\" --set schedule.lrf=0.1 --set schedule.warmup_iters=10
        --set schedule.warmup_ratio=0.0 --set schedule.warmup_epochs=1.5 --set schedule.warmup_momentum=0.8
        --set schedule.warmup_bias_lr=0.1 --set ema.enable=true --set ema.style=\"yolov5\"
        --set ema.momentum=0.0001 --set ema.update_buffers=true --set 'optimizer.freeze=["backbone.stage0"]'
        --set checkpoint.interval=1 --set evaluation.interval=0 --threads 1)

echo "== 2 epochs straight, and 1 epoch then --resume to 2"
"$wb" run "$exp" "${recipe[@]}" --set schedule.max_epochs=2 --work-dir "$out/straight" >"$out/straight.txt" 2>&1 \
  || { cat "$out/straight.txt"; exit 1; }
grep -F "nominal batch 22: step every 3 iterations of 8 images (ramped up from 1 over the warmup), weight_decay 0.0001 -> 0.000109091" "$out/straight.txt"
grep -F "freeze: 6 parameters are not trained" "$out/straight.txt"
"$wb" run "$exp" "${recipe[@]}" --set schedule.max_epochs=1 --work-dir "$out/resumed" >"$out/part1.txt" 2>&1 \
  || { cat "$out/part1.txt"; exit 1; }
"$wb" run "$exp" "${recipe[@]}" --set schedule.max_epochs=2 --work-dir "$out/resumed" --resume >"$out/part2.txt" 2>&1 \
  || { cat "$out/part2.txt"; exit 1; }
cmp "$out/straight/epoch_2.safetensors" "$out/resumed/epoch_2.safetensors"
echo "resumed run is bit-identical to the uninterrupted one"

/usr/bin/python3 - "$out/straight/epoch_1.safetensors" "$out/straight/epoch_2.safetensors" <<'PY'
import json, struct, sys
import numpy as np

def load(path):
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        data = f.read()
    tensors = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=np.float32)
               for k, v in header.items() if k != "__metadata__"}
    return header["__metadata__"], tensors

# train.py's step rule over 2 epochs of nb = 32: accumulate = max(1, round(np.interp(ni, [0, nw], [1, 22 / 8])))
# while ni <= nw = 48, a step when ni - last_opt_step >= accumulate.
nb, nw, last, steps = 32, 48, -1, 0
for ni in range(2 * nb):
    if ni <= nw:
        accumulate = max(1, np.interp(ni, [0, nw], [1, 22 / 8]).round())
    if ni - last >= accumulate:
        steps, last = steps + 1, ni
meta1, t1 = load(sys.argv[1])
meta2, t2 = load(sys.argv[2])
assert meta2["ema_steps"] == str(steps), f"EMA updates {meta2['ema_steps']}, train.py's rule gives {steps}"
print(f"{steps} optimizer steps and EMA updates in 64 iterations, as train.py's rule")
frozen = [k for k in t2 if k.startswith("backbone.stage0.") and "running" not in k and "::" not in k]
assert len(frozen) == 6, frozen
for k in frozen:
    assert np.array_equal(t1[k], t2[k]), f"frozen {k} changed in epoch 2"
    assert k + "::momentum" not in t2, f"frozen {k} has optimizer state"
assert not np.array_equal(t1["backbone.stage0.bn0.running_mean"], t2["backbone.stage0.bn0.running_mean"]), \
    "a frozen stage's BN statistics must keep updating, as in YOLOv5"
assert not np.array_equal(t1["backbone.stage1.conv0.weight"], t2["backbone.stage1.conv0.weight"])
assert not np.array_equal(t2["ema.backbone.stage0.bn0.running_mean"], t2["backbone.stage0.bn0.running_mean"]), \
    "with update_buffers the EMA averages BN statistics"
print("frozen weights unchanged and without optimizer state; their BN statistics moved; EMA averages buffers")
PY

# log.json's lr0 (biases), lr1 / lr2 (weights, norm weights) and momentum are train.py's param_groups at each logged
# iteration: np.interp over the warmup (biases from warmup_bias_lr, the others from 0), then lr0 * lf(epoch).
/usr/bin/python3 - "$out/straight/log.json" <<'PY'
import json, sys
import numpy as np
lines = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l]
nb, nw, lr0, lrf, epochs = 32, 48, 0.02, 0.1, 2
for l in lines:
    ni = (l["epoch"] - 1) * nb + l["iter"] - 1
    lr = lr0 * ((1 - (l["epoch"] - 1) / epochs) * (1.0 - lrf) + lrf)
    warm = ni <= nw
    want = {"lr0": np.interp(ni, [0, nw], [0.1, lr]) if warm else lr, "lr1": np.interp(ni, [0, nw], [0.0, lr]) if warm
            else lr, "momentum": np.interp(ni, [0, nw], [0.8, 0.937]) if warm else 0.937}
    want["lr2"] = want["lr"] = want["lr1"]
    for k, v in want.items():
        assert abs(l[k] - v) <= 1e-6 * max(1.0, v), (l["epoch"], l["iter"], k, l[k], v)
assert len(lines) == 4 and any(l["lr0"] > 2 * l["lr1"] for l in lines), "no logged line inside the bias warmup"
print(f"log.json: lr0, lr1, lr2 and momentum of {len(lines)} lines are train.py's param_groups")
PY

echo "== validate counts what the freeze leaves trainable"
"$wb" validate "$exp" --set 'optimizer.freeze=["backbone.stage0"]' >"$out/validate.txt" 2>&1 \
  || { cat "$out/validate.txt"; exit 1; }
grep -E "backbone +tiny_cnn +72304 params \(69504 trainable\)" "$out/validate.txt"

echo "== refusals"
expect_fail 2 "optimizer.freeze: no parameter is named 'backbone.stage' or 'backbone.stage.*'" "$out/typo_v.txt" -- \
  "$wb" validate "$exp" --set 'optimizer.freeze=["backbone.stage"]'
expect_fail 2 "optimizer.freeze: no parameter is named 'backbone.stage' or 'backbone.stage.*'" "$out/typo.txt" -- \
  "$wb" run "$exp" --set 'optimizer.freeze=["backbone.stage"]' --work-dir "$out/typo"
expect_fail 2 "optimizer.accumulate = 2 and optimizer.nbs = 22 both set the accumulation" "$out/both.txt" -- \
  "$wb" run "$exp" --set optimizer.nbs=22 --set optimizer.accumulate=2 --work-dir "$out/both"
expect_fail 2 "optimizer.accumulate = 2 and optimizer.nbs = 22 both set the accumulation" "$out/both_v.txt" -- \
  "$wb" validate "$exp" --set optimizer.nbs=22 --set optimizer.accumulate=2
echo "yolov5 recipe: all passed"
