#!/usr/bin/env bash
# configs/faster_rcnn/faster_rcnn_r50_c4_roipool_voc.conf (ResNet C4, RPN on C4, RoIPool 14x14, the res5 box
# head, train.freeze) validates as shipped, then trains 2 iterations on 2 BCCD images made cheap with --set
# (ResNet-18 C4, 160x128 inputs, anchors of 16-64 px, few proposals and RoIs): one epoch with the backbone frozen, one with
# everything, the switch logged, every loss term finite and acc logged. Exit 77 (skipped) without ../shared.
set -euo pipefail
wb=$1 src=$2 out=$3
exp="$src/configs/faster_rcnn/faster_rcnn_r50_c4_roipool_voc.conf"
"$wb" --threads 1 validate "$exp" > /dev/null 2>&1 || { "$wb" validate "$exp"; echo "FAILED: validate $exp"; exit 1; }
echo "ok: $exp validates (model built and run forward)"
shared="$src/../shared/datasets/bccd"
[ -d "$shared" ] || { echo "SKIPPED: $shared is missing (../shared must be beside the checkout)"; exit 77; }
rm -rf "$out" && mkdir -p "$out"
head -2 "$shared/ImageSets/Main/train.txt" > "$out/two.txt"
pipeline='( { type = "resize"; scale = [160, 128]; keep_ratio = true; },
    { type = "normalize"; mean = [123.675, 116.28, 103.53]; std = [58.395, 57.12, 57.375]; to_rgb = true; },
    { type = "pad"; size_divisor = 32; } )'
"$wb" run "$exp" --work-dir "$out/work" --set data.data_root="$shared" --set data.batch_size=2 \
  --set "data.train.dataset.split=\"$out/two.txt\"" --set "data.train.pipeline=$pipeline" \
  --set "data.val.dataset.split=\"$out/two.txt\"" --set "data.val.pipeline=$pipeline" \
  --set model.backbone.depth=18 --set model.head.rpn.feat_channels=16 --set model.head.rpn.train_nms_pre=200 \
  --set "model.head.rpn.anchor_scales=[1.0, 2.0, 4.0]" \
  --set model.head.rpn.train_max_per_img=50 --set model.head.sampler_num=16 --set schedule.max_epochs=2 \
  --set 'train.freeze={modules=["backbone"]; epochs=1; batch_size=2; lr=1e-4;}' \
  --set evaluation.interval=0 --set checkpoint.interval=0 --set log.interval=1 --threads 2 >"$out/run.txt" 2>&1 \
  || { cat "$out/run.txt"; exit 1; }
grep -E "train.freeze: epoch 2 on trains backbone too" "$out/run.txt" || { cat "$out/run.txt"; exit 1; }
/usr/bin/python3 - "$out/work/log.json" <<'PY'
import json, math, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l]
assert len(lines) == 2, f"{len(lines)} training log lines, expected 2 (one per iteration)"
for l in lines:
    terms = {k: v for k, v in l.items() if "loss" in k or k == "acc"}
    assert {"loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "acc", "loss_bbox"} <= set(terms), terms
    assert all(math.isfinite(v) for v in terms.values()), terms
    print("epoch", l["epoch"], {k: round(v, 4) for k, v in terms.items()})
PY
echo "1 passed, 0 failed"
