#!/usr/bin/env bash
# amp = "bf16": refused with the reason where oneDNN finds no bfloat16 instructions (simulated by capping
# its ISA), and the quickstart's model (RetinaNet R-18 + FPN from scratch on the synthetic shapes) trained in
# bf16 reaches the COCO mAP@0.5 of the same training in fp32 within 0.02 (and both learn: fp32 >= 0.9). The
# training is made cheap enough for every test run: 8 images at 96 px learnt in 400 iterations of 4 and
# evaluated on those 8. mAP@0.5:0.95 was compared first (fp32 0.9944, bf16 0.9907), but it proved to move
# by 0.08 with the summation order alone (see below), so it is printed, not asserted; a bf16 that fails to
# learn still shows in mAP@0.5. The whole quickstart (384 iterations of 8 at 128 px) took 3.5 minutes of the
# suite (fp32 0.6702, bf16 0.6633). The two runs go
# side by side on one thread each. Both runs' run.log hold the validation tables exactly as the console shows them.
# Exit 77 on a CPU without bf16.
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$src"
source tests/e2e/expect_fail.sh
exp=configs/quickstart.conf

echo "== refused where the CPU has no bfloat16 instructions"
expect_fail 2 'amp = "bf16" needs a CPU with AVX512_BF16 or AMX instructions' "$out/refused.txt" -- \
  env ONEDNN_MAX_CPU_ISA=AVX512_CORE "$wb" run "$exp" --set 'amp="bf16"' --work-dir "$out/refused"
grep -qF 'set amp = "none"' "$out/refused.txt"
if ! "$wb" validate "$exp" --set 'amp="bf16"' >"$out/validate.txt" 2>&1; then
  grep 'needs a CPU with AVX512_BF16' "$out/validate.txt" && exit 77
  cat "$out/validate.txt"; exit 1
fi

echo "== the quickstart's model learning 8 images, in bf16 and in fp32"
# anchors of 12-19 px at stride 8 (octave_base_scale 1.5) for the shapes of 11-40 px at 96 px
cheap=(--set threads=1 --set data.batch_size=4 --set model.head.octave_base_scale=1.5
       --set data.train.dataset.num_images=8 --set data.train.dataset.image_size=96
       --set data.val.dataset.num_images=8 --set data.val.dataset.image_size=96 --set data.val.dataset.seed=1
       --set schedule.by_epoch=false --set schedule.max_iters=400 --set 'schedule.milestones=[320, 376]'
       --set schedule.warmup_iters=50 --set evaluation.interval=400 --set checkpoint.interval=400
       --set log.tensorboard=false)
"$wb" run "$exp" "${cheap[@]}" --set 'amp="bf16"' --work-dir "$out/bf16" >"$out/bf16.txt" 2>&1 & bf16=$!
"$wb" run "$exp" "${cheap[@]}" --work-dir "$out/fp32" >"$out/fp32.txt" 2>&1 & fp32=$!
wait $bf16 || { cat "$out/bf16.txt"; exit 1; }
wait $fp32 || { cat "$out/fp32.txt"; exit 1; }
grep -qF 'amp = "bf16": convolutions and matrix products in bfloat16' "$out/bf16.txt"
# Compared on mAP@0.5: on these 8 images after 400 iterations the mAP@0.5:0.95 moves with the summation
# order alone (one fp32 binary: 0.994 with 1 thread, 0.915 with 2; mAP@0.5 1.000 and 0.992), so it cannot
# resolve 0.02; mAP@0.5 can.
/usr/bin/python3 - "$out/fp32/log.json" "$out/bf16/log.json" <<'PY'
import json, sys
def final_val(path):
    vals = [json.loads(l) for l in open(path) if l.strip()]
    vals = [r for r in vals if r.get("mode") == "val"]
    assert vals, f"{path}: no validation"
    return vals[-1]
fp32, bf16 = final_val(sys.argv[1]), final_val(sys.argv[2])
print(f"after 400 iterations: mAP@0.5 fp32 {fp32['bbox_mAP_50']:.4f}, bf16 {bf16['bbox_mAP_50']:.4f}; "
      f"mAP@0.5:0.95 fp32 {fp32['bbox_mAP']:.4f}, bf16 {bf16['bbox_mAP']:.4f}")
f, b = fp32["bbox_mAP_50"], bf16["bbox_mAP_50"]
assert f >= 0.9, f"the fp32 run did not learn the 8 images (mAP@0.5 {f:.3f} < 0.9): the comparison would say nothing"
assert abs(b - f) <= 0.02, f"bf16 mAP@0.5 {b:.4f} is more than 0.02 from fp32's {f:.4f}"
PY

echo "== run.log holds the validation tables as the console shows them"
tables() { sed -n '/\[val\] evaluating data.val/,/Iter(val)/p' "$1" | grep -v '^20[0-9][0-9]-'; }
for p in bf16 fp32; do
  tables "$out/$p.txt" >"$out/$p.console_tables"
  tables "$out/$p/run.log" >"$out/$p.run_log_tables"
  grep -qF ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]' "$out/$p.console_tables"
  grep -qF "YOLOv5's metrics (ap_per_class):" "$out/$p.console_tables"
  grep -q '^ *id  category' "$out/$p.console_tables"
  diff "$out/$p.console_tables" "$out/$p.run_log_tables" || { echo "run.log lacks the console's tables"; exit 1; }
done
echo "amp_bf16: ok"
