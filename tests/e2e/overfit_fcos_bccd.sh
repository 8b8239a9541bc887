#!/usr/bin/env bash
# Learnability: FCOS (ResNet-18 + FPN + fcos_head with GroupNorm towers, torchvision's targets and losses,
# trained from scratch) overfits 8 real BCCD images at 320x240: VOC mAP@0.5 on those images reaches 0.9 within
# 200 iterations of batch 4 (SGD 0.01, step at 175). No augmentation, so the only question is whether the model,
# the losses (focal, GIoU, centerness) and the optimiser learn. Trial (EVAL_EVERY=40): mAP@0.5 0.14 at 40
# iterations, 0.67 at 80, 0.84 at 120, 0.93 at 160, 1.00 at 200, at 0.75 s of CPU an iteration (measured on the busy
# machine; about 75 s on 2 idle cores if both threads stay busy). MAX_ITERS and EVAL_EVERY override the budget
# and the validation interval.
# Usage: overfit_fcos_bccd.sh WORKBENCH SOURCE_DIR SCRATCH_DIR. Exit 77 (skipped) without ../shared.
set -euo pipefail
wb=$1 src=$2 out=$3
shared="$src/../shared/datasets/bccd"
[ -d "$shared" ] || { echo "SKIPPED: no shared BCCD at $shared (../shared must be beside the checkout)"; exit 77; }
max_iters=${MAX_ITERS:-200}
eval_every=${EVAL_EVERY:-$max_iters}
rm -rf "$out" && mkdir -p "$out"
head -8 "$shared/ImageSets/Main/train.txt" > "$out/eight.txt"
pipeline='( { type = "resize"; scale = [320, 240]; keep_ratio = true; },
    { type = "normalize"; mean = [123.675, 116.28, 103.53]; std = [58.395, 57.12, 57.375]; to_rgb = true; },
    { type = "pad"; size_divisor = 32; } )'
cat > "$out/overfit.conf" <<EOF2
@include "$src/configs/_base_/models/fcos_r50_fpn.conf"
@include "$src/configs/_base_/datasets/bccd.conf"
@include "$src/configs/_base_/default_runtime.conf"
work_dir = "$out/work";
model = {
  backbone = { depth = 18; frozen_stages = -1; norm = "bn"; norm_eval = false; };
  neck = { out_channels = 64; };
  head = { num_classes = 3; feat_channels = 64; stacked_convs = 2; };
};
data = {
  data_root = "$shared";
  batch_size = 4;
  train = { dataset = { split = "$out/eight.txt"; }; pipeline = $pipeline; };
  val = { dataset = { split = "$out/eight.txt"; }; pipeline = $pipeline; };
};
optimizer = { type = "sgd"; lr = 0.01; momentum = 0.9; weight_decay = 0.0001; grad_clip = 10.0; };
schedule = { by_epoch = false; max_iters = $max_iters; policy = "step"; milestones = [$((max_iters * 7 / 8))];
             gamma = 0.1; warmup = "linear"; warmup_iters = 20; warmup_ratio = 0.1; };
log = { interval = 20; };
checkpoint = { interval = 0; };
evaluation = { interval = $eval_every; metric = "mAP"; };
EOF2
"$wb" --threads 2 run "$out/overfit.conf" >"$out/run.txt" 2>&1 || { cat "$out/run.txt"; exit 1; }
/usr/bin/python3 - "$out/work/log.json" "$max_iters" <<'PY'
import json, sys
vals = [json.loads(l) for l in open(sys.argv[1]) if '"val"' in l]
assert vals, "no validation ran"
for v in vals:
    print(f"iteration {v.get('iter')}: VOC mAP@0.5 {v['mAP']:.4f}")
m = vals[-1]["mAP"]
assert m >= 0.9, f"FCOS did not overfit 8 BCCD images to mAP@0.5 >= 0.9 within {sys.argv[2]} iterations"
PY
echo "1 passed, 0 failed"
