#!/usr/bin/env bash
# Learnability: Faster R-CNN (ResNet-18 + FPN from scratch, roi_head with its
# rpn_head) overfits 8 real BCCD images at reduced size to VOC mAP@0.5 >= 0.9
# on those images within a bounded number of iterations. Exit 77 (skipped)
# without ../shared.
set -euo pipefail
wb=$1 src=$2 out=$3
. "$(dirname "$0")/overfit_common.sh"
iters=${WB_OVERFIT_ITERS:-80}
overfit_prepare 77
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
$(overfit_data "$bccd_pipeline")
optimizer = { type = "adamw"; lr = 0.001; weight_decay = 0.0001; grad_clip = 10.0; };
schedule = { by_epoch = false; max_iters = $iters; policy = "step"; milestones = [$((iters * 7 / 8))]; gamma = 0.1;
             warmup = "linear"; warmup_iters = 20; warmup_ratio = 0.1; };
log = { interval = 25; };
checkpoint = { interval = 0; };
evaluation = { interval = $iters; metric = "mAP"; };
EOF2
overfit_train
overfit_check "Faster R-CNN" "$iters" mAP
