#!/usr/bin/env bash
# Learnability: Faster R-CNN (ResNet-18 + FPN from scratch, roi_head with its
# rpn_head) overfits 8 real BCCD images at reduced size to VOC mAP@0.5 >= 0.9
# on those images within a bounded number of iterations. Exit 77 (skipped)
# without ../shared.
set -euo pipefail
wb=$1 src=$2 out=$3
iters=${WB_OVERFIT_ITERS:-80}
shared="$src/../shared/datasets/bccd"
[ -d "$shared" ] || { echo "SKIPPED: $shared is missing (../shared must be beside the checkout)"; exit 77; }
rm -rf "$out" && mkdir -p "$out"
head -8 "$shared/ImageSets/Main/train.txt" > "$out/eight.txt"
pipeline='( { type = "resize"; scale = [320, 240]; keep_ratio = true; },
    { type = "normalize"; mean = [123.675, 116.28, 103.53]; std = [58.395, 57.12, 57.375]; to_rgb = true; },
    { type = "pad"; size_divisor = 32; } )'
cat > "$out/overfit.conf" <<EOF2
@include "$src/configs/_base_/models/faster_rcnn_r50_fpn.conf"
@include "$src/configs/_base_/datasets/bccd.conf"
@include "$src/configs/_base_/default_runtime.conf"
work_dir = "$out/work";
model = {
  backbone = { depth = 18; frozen_stages = -1; norm = "bn"; norm_eval = false; };
  neck = { out_channels = 64; };
  head = { num_classes = 3; fc_channels = 256; sampler_num = 128;
           rpn = { feat_channels = 64; anchor_scales = [4.0]; train_nms_pre = 500; train_max_per_img = 300; nms_pre = 500;
                   max_per_img = 300; }; };
};
data = {
  data_root = "$shared";
  train = { dataset = { split = "$out/eight.txt"; }; pipeline = $pipeline; };
  val = { dataset = { split = "$out/eight.txt"; }; pipeline = $pipeline; };
};
optimizer = { type = "adamw"; lr = 0.001; weight_decay = 0.0001; grad_clip = 10.0; };
schedule = { by_epoch = false; max_iters = $iters; policy = "step"; milestones = [$((iters * 7 / 8))]; gamma = 0.1;
             warmup = "linear"; warmup_iters = 20; warmup_ratio = 0.1; };
log = { interval = 25; };
checkpoint = { interval = 0; };
evaluation = { interval = $iters; metric = "mAP"; };
EOF2
"$wb" run "$out/overfit.conf" >"$out/run.txt" 2>&1 || { cat "$out/run.txt"; exit 1; }
/usr/bin/python3 - "$out/work/log.json" "$iters" <<'PY'
import json, sys
vals = [json.loads(l) for l in open(sys.argv[1]) if '"val"' in l]
assert vals, "no validation ran"
m = vals[-1]["mAP"]
print(f"VOC mAP@0.5 on the 8 training images after {sys.argv[2]} iterations: {m:.4f}")
assert m >= 0.9, f"Faster R-CNN did not overfit 8 BCCD images to mAP@0.5 >= 0.9 within {sys.argv[2]} iterations"
PY
echo "1 passed, 0 failed"
