#!/usr/bin/env bash
# End to end: `workbench run` trains the tiny detector (tiny_cnn + center_head) on the synthetic
# dataset; the loss must fall, and a run stopped after 2 epochs and resumed
# must end with exactly the weights of an uninterrupted 3-epoch run. Also: EMA
# and accumulation resume exactly, a NaN stops the run, iteration-based
# intervals, and Ctrl-C / kill -9 leave a checkpoint --resume continues from.
set -euo pipefail
wb=$1 src=$2 out=$3
exp=configs/tiny/center_tiny_synthetic.conf
rm -rf "$out" && mkdir -p "$out"
cd "$src"

echo "== training 12 epochs (384 iterations)"
"$wb" run "$exp" --work-dir "$out/full" >"$out/full.txt" 2>&1 || { cat "$out/full.txt"; exit 1; }
/usr/bin/python3 - "$out/full/log.json" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in lines if r.get("mode") == "train"]
vals = [r for r in lines if r.get("mode") == "val"]
assert len(vals) == 12, f"expected a validation after each of the 12 epochs, got {len(vals)}"
print(f"validation bbox_mAP_50 after epoch 1: {vals[0]['bbox_mAP_50']:.3f}, after epoch 12: {vals[-1]['bbox_mAP_50']:.3f}")
assert vals[-1]["bbox_mAP_50"] >= 0.9, "the tiny detector did not learn the synthetic shapes (mAP@0.5 < 0.9)"
assert len(rows) >= 10, f"expected at least 10 log lines, got {len(rows)}"
first, last = rows[0]["loss"], sum(r["loss"] for r in rows[-3:]) / 3
print(f"loss first interval {first:.4f}, last three intervals {last:.4f}")
assert last < 0.5 * first, "the loss did not fall below half of its first value"
PY
test -f "$out/full/epoch_12.safetensors"
test -f "$out/full/config.conf"
test -f "$out/full/pictures/val_0000.jpg"

echo "== resume: 2 epochs, then continue to 3; compare with 3 uninterrupted"
common=(--set schedule.max_epochs=3 --set "schedule.milestones=[2]")
"$wb" run "$exp" "${common[@]}" --work-dir "$out/straight" >"$out/straight.txt" 2>&1
"$wb" run "$exp" --set schedule.max_epochs=2 --set "schedule.milestones=[2]" \
  --work-dir "$out/resumed" >"$out/part1.txt" 2>&1
"$wb" run "$exp" "${common[@]}" --work-dir "$out/resumed" --resume >"$out/part2.txt" 2>&1 \
  || { cat "$out/part2.txt"; exit 1; }
cmp "$out/straight/epoch_3.safetensors" "$out/resumed/epoch_3.safetensors"
echo "resumed run is bit-identical to the uninterrupted one"

echo "== EMA, gradient accumulation (3, across epoch ends of 32 iterations), parameter groups, cosine: resume exactly"
engine=(--set ema.enable=true --set ema.gamma=50.0 --set optimizer.accumulate=3 --set schedule.policy=\"cosine\"
        --set schedule.min_lr_ratio=0.01 --set optimizer.paramwise.norm_decay_mult=0.5
        --set checkpoint.interval=1)
"$wb" run "$exp" "${engine[@]}" --set schedule.max_epochs=2 --work-dir "$out/engine_straight" \
  >"$out/engine_straight.txt" 2>&1 || { cat "$out/engine_straight.txt"; exit 1; }
"$wb" run "$exp" "${engine[@]}" --set schedule.max_epochs=1 --work-dir "$out/engine_resumed" \
  >"$out/engine_part1.txt" 2>&1
"$wb" run "$exp" "${engine[@]}" --set schedule.max_epochs=2 --work-dir "$out/engine_resumed" \
  --resume >"$out/engine_part2.txt" 2>&1 || { cat "$out/engine_part2.txt"; exit 1; }
cmp "$out/engine_straight/epoch_2.safetensors" "$out/engine_resumed/epoch_2.safetensors"
/usr/bin/python3 - "$out/engine_straight/epoch_2.safetensors" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
ema = [k for k in header if k.startswith("ema.")]
weights = [k for k in header if k != "__metadata__" and "::" not in k and not k.startswith("ema.")]
assert ema and len(ema) == len(weights), f"{len(ema)} EMA tensors for {len(weights)} weights"
# 2 epochs of 32 iterations: 10 groups of 3 and one of 2 (epoch end) each
assert header["__metadata__"]["ema_steps"] == str(2 * (32 // 3 + 1)), header["__metadata__"]
print(f"{len(ema)} EMA tensors, ema_steps {header['__metadata__']['ema_steps']}")
PY
echo "EMA + accumulation run resumed bit-identically"

echo "== load_from reports what matched"
"$wb" run "$exp" --set schedule.by_epoch=false --set schedule.max_iters=1 \
  --set "load_from=\"$out/full/epoch_12.safetensors\"" --work-dir "$out/load_from" >"$out/load_from.txt" 2>&1 \
  || { cat "$out/load_from.txt"; exit 1; }
grep -E "parameters loaded, 0 missing, 0 unexpected, 0 shape mismatched" "$out/load_from.txt"

echo "== a NaN loss stops the run, naming the iteration, the module and the last good checkpoint"
# lr 10 with momentum 1 and no clipping diverges (NaN at iteration 103 with seed 0).
if "$wb" run "$exp" --set schedule.by_epoch=false --set schedule.max_iters=400 \
     --set checkpoint.interval=10 --set evaluation.interval=0 --set optimizer.lr=10.0 --set optimizer.momentum=1.0 \
     --set optimizer.grad_clip=0.0 --set schedule.policy=\"constant\" --set schedule.warmup=\"none\" \
     --work-dir "$out/nan" >"$out/nan.txt" 2>&1; then
  cat "$out/nan.txt"; echo "a diverging run must fail"; exit 1
fi
grep -E "loss term '[a-z_]+' of head 'head' \(type center_head\) is (NaN|Inf) at iteration [0-9]+; the last good checkpoint is .*/nan/iter_[0-9]+\.safetensors" "$out/nan.txt"
echo "1 passed, 0 failed"

echo "== iteration-based run without intervals: validate and checkpoint every max_iters / 10 iterations"
"$wb" run "$exp" --set schedule.by_epoch=false --set schedule.max_iters=20 --set "schedule.milestones=[15]" \
  --work-dir "$out/iters" >"$out/iters.txt" 2>&1 || { cat "$out/iters.txt"; exit 1; }
saved=$(grep -o 'saved .*iter_[0-9]*\.safetensors' "$out/iters.txt" | grep -o 'iter_[0-9]*\.safetensors' | tr '\n' ' ')
test "$saved" = "iter_2.safetensors iter_4.safetensors iter_6.safetensors iter_8.safetensors iter_10.safetensors iter_12.safetensors iter_14.safetensors iter_16.safetensors iter_18.safetensors iter_20.safetensors " \
  || { echo "checkpoints saved: $saved"; exit 1; }
test "$(grep -c 'Iter(val)' "$out/iters.txt")" = 10
echo "checkpoints and validations at iterations 2, 4, ..., 20"

# Waits (up to 120 s) until file $1 exists, or fails the test.
wait_for() {
  for _ in $(seq 1200); do [ -e "$1" ] && return 0; sleep 0.1; done
  echo "gave up waiting for $1"; exit 1
}

echo "== Ctrl-C saves interrupted.safetensors and exits 0; --resume continues from it"
"$wb" run "$exp" --set checkpoint.interval=1 --work-dir "$out/ctrl_c" >"$out/ctrl_c.txt" 2>&1 &
pid=$!
wait_for "$out/ctrl_c/epoch_1.safetensors"
kill -INT "$pid"
wait "$pid" || { cat "$out/ctrl_c.txt"; echo "an interrupted run must exit 0"; exit 1; }
grep -q "interrupted: saving a checkpoint at iteration" "$out/ctrl_c.txt"
grep -q "stopped after" "$out/ctrl_c.txt"
test -f "$out/ctrl_c/interrupted.safetensors"
"$wb" run "$exp" --set checkpoint.interval=1 --work-dir "$out/ctrl_c" \
  --resume "$out/ctrl_c/interrupted.safetensors" >"$out/ctrl_c_resumed.txt" 2>&1 \
  || { cat "$out/ctrl_c_resumed.txt"; exit 1; }
grep -q "resumed from $out/ctrl_c/interrupted.safetensors at iteration" "$out/ctrl_c_resumed.txt"
test -f "$out/ctrl_c/epoch_12.safetensors"
echo "interrupted, saved, resumed to the end"

echo "== Ctrl-C during validation stops it at the next batch; the epoch is saved without it and --resume goes on"
# 20000 validation images take some 40 s: a validation that ignored the signal would end and be logged.
epochs=(--set schedule.max_epochs=2 --set "schedule.milestones=[2]")
"$wb" run "$exp" "${epochs[@]}" --set data.val.dataset.num_images=20000 --work-dir "$out/ctrl_c_val" \
  >"$out/ctrl_c_val.txt" 2>&1 &
pid=$!
for _ in $(seq 1200); do grep -q "evaluating data.val" "$out/ctrl_c_val.txt" && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid" || { cat "$out/ctrl_c_val.txt"; echo "a run interrupted in validation must exit 0"; exit 1; }
grep -E "data.val: prediction stopped by SIGINT after [0-9]+ images: the validation of epoch 1 is left out" \
  "$out/ctrl_c_val.txt" || { cat "$out/ctrl_c_val.txt"; exit 1; }
if grep -q "Epoch(val)" "$out/ctrl_c_val.txt"; then echo "the validation ran to its end"; exit 1; fi
test -f "$out/ctrl_c_val/epoch_1.safetensors"
test -f "$out/ctrl_c_val/interrupted.safetensors"
"$wb" run "$exp" "${epochs[@]}" --work-dir "$out/ctrl_c_val" --resume >"$out/ctrl_c_val_resumed.txt" 2>&1 \
  || { cat "$out/ctrl_c_val_resumed.txt"; exit 1; }
grep -q "resumed from $out/ctrl_c_val/latest.safetensors at iteration 32 (epoch 1)" "$out/ctrl_c_val_resumed.txt" \
  || { cat "$out/ctrl_c_val_resumed.txt"; exit 1; }
test "$(grep -c '"mode": "val"' "$out/ctrl_c_val/log.json")" = 1
echo "validation stopped at a batch, epoch 1 saved, resumed and validated after epoch 2"

echo "== kill -9 mid-run: the checkpoints written so far stay loadable and --resume continues"
"$wb" run "$exp" --set checkpoint.interval=1 --work-dir "$out/killed" >"$out/killed.txt" 2>&1 &
pid=$!
wait_for "$out/killed/epoch_2.safetensors"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
"$wb" run "$exp" --set checkpoint.interval=1 --work-dir "$out/killed" --resume >"$out/killed_resumed.txt" 2>&1 \
  || { cat "$out/killed_resumed.txt"; exit 1; }
grep -q "resumed from $out/killed/latest.safetensors at iteration" "$out/killed_resumed.txt"
test -f "$out/killed/epoch_12.safetensors"
echo "killed, resumed from the latest checkpoint to the end"
