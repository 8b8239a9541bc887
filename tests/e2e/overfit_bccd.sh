#!/usr/bin/env bash
# Learnability: a small RetinaNet (ResNet-18 + FPN, trained from scratch)
# overfits 8 real BCCD images at reduced size to VOC mAP@0.5 >= 0.9 on those
# images within a budget of 400 iterations.
set -euo pipefail
wb=$1 src=$2 out=$3
shared="$src/../shared/datasets/bccd"
[ -d "$shared" ] || { echo "FAILED: $shared is missing (../shared must be beside the checkout)"; exit 1; }
rm -rf "$out" && mkdir -p "$out"
head -8 "$shared/ImageSets/Main/train.txt" > "$out/eight.txt"
pipeline='( { type = "resize"; scale = [320, 240]; keep_ratio = true; },
    { type = "normalize"; mean = [123.675, 116.28, 103.53]; std = [58.395, 57.12, 57.375]; to_rgb = true; },
    { type = "pad"; size_divisor = 32; } )'
cat > "$out/overfit.conf" <<EOF2
@include "$src/configs/_base_/models/retinanet_r50_fpn.conf"
@include "$src/configs/_base_/datasets/bccd.conf"
@include "$src/configs/_base_/default_runtime.conf"
work_dir = "$out/work";
model = {
  backbone = { depth = 18; frozen_stages = -1; norm = "bn"; norm_eval = false; };
  neck = { out_channels = 64; };
  head = { num_classes = 3; feat_channels = 64; stacked_convs = 2; octave_base_scale = 2.0; };
};
data = {
  data_root = "$shared";
  train = { dataset = { split = "$out/eight.txt"; }; pipeline = $pipeline; };
  val = { dataset = { split = "$out/eight.txt"; }; pipeline = $pipeline; };
};
optimizer = { type = "sgd"; lr = 0.01; momentum = 0.9; weight_decay = 0.0001; grad_clip = 10.0; };
schedule = { by_epoch = false; max_iters = 400; policy = "step"; milestones = [350]; gamma = 0.1;
             warmup = "linear"; warmup_iters = 50; warmup_ratio = 0.1; };
log = { interval = 50; };
checkpoint = { interval = 0; };
evaluation = { interval = 400; metric = "mAP"; };
EOF2
"$wb" run "$out/overfit.conf" >"$out/run.txt" 2>&1 || { cat "$out/run.txt"; exit 1; }
/usr/bin/python3 - "$out/work/log.json" <<'PY'
import json, sys
vals = [json.loads(l) for l in open(sys.argv[1]) if '"val"' in l]
assert vals, "no validation ran"
m = vals[-1]["mAP"]
print(f"VOC mAP@0.5 on the 8 training images after 400 iterations: {m:.4f}")
assert m >= 0.9, "RetinaNet did not overfit 8 BCCD images to mAP@0.5 >= 0.9 within 400 iterations"
PY
echo "1 passed, 0 failed"
