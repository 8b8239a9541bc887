#!/usr/bin/env bash
# Learnability: a small RetinaNet (ResNet-18 + FPN, trained from scratch)
# overfits 8 real BCCD images at reduced size to VOC mAP@0.5 >= 0.9 on those
# images within a budget of 400 iterations.
set -euo pipefail
wb=$1 src=$2 out=$3
. "$(dirname "$0")/overfit_common.sh"
overfit_prepare 1
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
$(overfit_data "$bccd_pipeline")
optimizer = { type = "sgd"; lr = 0.01; momentum = 0.9; weight_decay = 0.0001; grad_clip = 10.0; };
schedule = { by_epoch = false; max_iters = 400; policy = "step"; milestones = [350]; gamma = 0.1;
             warmup = "linear"; warmup_iters = 50; warmup_ratio = 0.1; };
log = { interval = 50; };
checkpoint = { interval = 0; };
evaluation = { interval = 400; metric = "mAP"; };
EOF2
overfit_train
overfit_check "RetinaNet" 400 mAP
