#!/usr/bin/env bash
# End to end: the data half of the YOLOv5 recipe through the command line.
#   --hyp FILE: values land in the effective config (config.conf), names without a target warn,
#     an unknown name is refused at its line (exit 2); YOLOv5's own hyp files validate when the
#     yolov5 venv is present.
#   data.close_mosaic = 1 on a 3-epoch run: the switch is logged when epoch 3 starts, not before;
#     by_epoch = false is refused.
#   data.image_weights: a run resumed after epoch 1 ends bit-identical to an uninterrupted one.
#   data.<split>.rect: refused without a letterbox step; validation in rect batches runs.
#   data.single_cls: refused with a head of several classes; with one, the checkpoint names "item".
#   A YOLOv5 v5.0 data.yaml (multi-line flow list of names, path / train / val) on the shared coco128:
#     check counts 80 classes and no label out of range; training finds the split's images.
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
source "$src/tests/e2e/expect_fail.sh"

cat >"$out/exp.conf" <<CONF
@include "$src/configs/tiny/center_tiny_synthetic.conf"
data = { batch_size = 4; workers = 1;
  train = { dataset = { num_images = 8; };
    pipeline = ( { type = "mosaic"; size = [64, 64]; },
                 { type = "random_affine"; },
                 { type = "yolo_hsv"; },
                 { type = "random_flip"; prob = 0.5; },
                 { type = "normalize"; mean = [127.5, 127.5, 127.5]; std = [64.0, 64.0, 64.0]; to_rgb = true; } ); };
  val = { dataset = { num_images = 4; }; }; };
schedule = { max_epochs = 3; milestones = [2]; warmup_iters = 2; };
evaluation = { interval = 0; };
log = { interval = 1; };
threads = 1;
CONF
cat >"$out/hyp.yaml" <<'HYP'
# a YOLOv5 hyp file
lr0: 0.005  # initial learning rate
momentum: 0.9
box: 0.05
hsv_h: 0.02
degrees: 3.0
translate: 0.2
fliplr: 0.4
mosaic: 0.9
mixup: 0.0
HYP

echo "== --hyp values in the effective config, close_mosaic logged at epoch 3"
"$wb" run "$out/exp.conf" --hyp "$out/hyp.yaml" --set data.close_mosaic=1 --work-dir "$out/run" \
  >"$out/run.txt" 2>&1 || { cat "$out/run.txt"; exit 1; }
grep -F "hyp.yaml:4: box: the head (type center_head) has no parameter 'box'; ignored" "$out/run.txt"
if grep -E "hyp .*mixup" "$out/run.txt"; then echo "mixup at 0 without a mixup step must not warn"; exit 1; fi
/usr/bin/python3 - "$out/run/config.conf" "$out/run.txt" <<'PY'
import re, sys
conf = open(sys.argv[1]).read()
for key, value in [("lr", "0.005"), ("momentum", "0.9"), ("hgain", "0.02"), ("degrees", "3.0"), ("translate", "0.2"),
                   ("close_mosaic", "1")]:
    assert re.search(rf"\b{key}\s*=\s*{re.escape(value)}\b", conf), f"{key} = {value} is not in config.conf"
assert re.search(r'type = "mosaic";[^}]*prob = 0\.9', conf, re.S), "mosaic prob 0.9 is not in config.conf"
assert re.search(r'type = "random_flip";[^}]*prob = 0\.4', conf, re.S), "fliplr 0.4 is not in config.conf"
log = open(sys.argv[2]).read().splitlines()
plan = [i for i, l in enumerate(log) if "close_mosaic: from epoch 3 on, data.train.pipeline runs with mosaic -> letterbox" in l]
switch = [i for i, l in enumerate(log) if "close_mosaic: epoch 3 on trains without mosaic and mixup" in l]
epochs = [(i, int(m.group(1))) for i, l in enumerate(log) for m in [re.search(r"Epoch \[(\d+)\]", l)] if m]
assert plan and len(switch) == 1, f"close_mosaic lines: plan {plan}, switch {switch}"
before = [e for i, e in epochs if i < switch[0]]
after = [e for i, e in epochs if i > switch[0]]
print(f"close_mosaic switch logged after train lines of epochs {sorted(set(before))}, before those of {sorted(set(after))}")
assert before and max(before) == 2 and after and min(after) == 3, "the switch is not logged as epoch 3 begins"
PY

echo "== mosaic9 with mixup (nine tiles, then a mixup partner that is a mosaic9 itself), close_mosaic after"
"$wb" run "$out/exp.conf" --set 'data.train.pipeline=({ type = "mosaic9"; size = [64, 64]; }, { type = "random_affine"; }, { type = "mixup"; prob = 1.0; }, { type = "normalize"; mean = [127.5, 127.5, 127.5]; std = [64.0, 64.0, 64.0]; })' \
  --set schedule.max_epochs=2 --set data.close_mosaic=1 --work-dir "$out/mosaic9" >"$out/mosaic9.txt" 2>&1 \
  || { cat "$out/mosaic9.txt"; exit 1; }
grep -F "close_mosaic: from epoch 2 on, data.train.pipeline runs with mosaic9 -> letterbox, mixup dropped" "$out/mosaic9.txt"

echo "== refusals"
printf 'lr0: 0.01\nmomentum: 0.9\nlr: 0.02\n' >"$out/bad.yaml"
expect_fail 2 "hyp $out/bad.yaml:3: error: unknown hyperparameter 'lr'; did you mean 'lr0'?" "$out/bad.txt" -- \
  "$wb" validate "$out/exp.conf" --hyp "$out/bad.yaml"
expect_fail 2 "none.yaml: No such file" "$out/missing.txt" -- "$wb" validate "$out/exp.conf" --hyp "$out/none.yaml"
expect_fail 2 "data.close_mosaic = 1 counts epochs" "$out/iters.txt" -- \
  "$wb" run "$out/exp.conf" --set data.close_mosaic=1 --set schedule.by_epoch=false --set schedule.max_iters=2 \
  --work-dir "$out/iters"

expect_fail 2 "data.train.rect = true needs a letterbox step in data.train.pipeline" "$out/rect.txt" -- \
  "$wb" run "$out/exp.conf" --set data.train.rect=true --work-dir "$out/rect"

echo "== rect validation batches (letterbox 96, pad 0.5) during training"
"$wb" run "$out/exp.conf" --set schedule.max_epochs=1 --set evaluation.interval=1 --set data.val.rect=true \
  --set data.val.rect_pad=0.5 --set 'data.val.pipeline=({ type = "letterbox"; size = [96, 96]; }, { type = "normalize"; mean = [127.5, 127.5, 127.5]; std = [64.0, 64.0, 64.0]; })' \
  --work-dir "$out/rect_val" >"$out/rect_val.txt" 2>&1 || { cat "$out/rect_val.txt"; exit 1; }
grep -q '"mode": *"val"' "$out/rect_val/log.json" || { echo "no validation in log.json"; exit 1; }
echo "rect validation ran"

echo "== single_cls: one class 'item' in training, evaluation and the checkpoint"
expect_fail 2 "data.single_cls = true trains one class" "$out/sc_refused.txt" -- \
  "$wb" run "$out/exp.conf" --set data.single_cls=true --work-dir "$out/sc_refused"
"$wb" run "$out/exp.conf" --set data.single_cls=true --set model.head.num_classes=1 --set schedule.max_epochs=1 \
  --set evaluation.interval=1 --work-dir "$out/sc" >"$out/sc.txt" 2>&1 || { cat "$out/sc.txt"; exit 1; }
/usr/bin/python3 - "$out/sc/epoch_1.safetensors" "$out/sc/log.json" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    meta = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))["__metadata__"]
names = [k for k in meta if "name" in k]
print("checkpoint class metadata:", {k: meta[k] for k in names})
assert meta["num_classes"] == "1" and any("item" in meta[k] for k in names), meta
vals = [json.loads(l) for l in open(sys.argv[2]) if '"val"' in l]
assert vals, "no validation ran"
PY

coco128=$src/../shared/datasets/coco128
if [ -d "$coco128/images" ]; then
  echo "== a YOLOv5 v5.0 data.yaml (names over several lines of a flow list, path / train / val) read by check and training"
  /usr/bin/python3 - "$coco128" "$out/v5" <<'PY'
import os, re, sys
root, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
names = re.findall(r"^\s+\d+: (.+)$", open(os.path.join(root, "data.yaml")).read(), re.M)
assert len(names) == 80, len(names)
rows = ",\n         ".join(", ".join(repr(n) for n in names[i:i + 8]) for i in range(0, 80, 8))
with open(os.path.join(out, "coco128.yaml"), "w") as f:
    f.write(f"# YOLOv5 v5.0 style\npath: {os.path.abspath(root)}\ntrain: images/train2017\nval: images/train2017\n\n"
            f"nc: 80\n\nnames: [ {rows} ]\n")
PY
  cat >"$out/v5/data.conf" <<CONF
data = { train = { dataset = { type = "yolo"; names_file = "$out/v5/coco128.yaml"; split = "val"; }; }; };
CONF
  "$wb" check "$out/v5/data.conf" >"$out/v5/check.txt" 2>&1 || true
  grep -F "images/train2017 (80 classes)" "$out/v5/check.txt"
  grep -E "^label out of range or unknown class +0$" "$out/v5/check.txt"
  grep -E "^\s+128 images" "$out/v5/check.txt"
  cat >"$out/v5/exp.conf" <<CONF
@include "$src/configs/tiny/center_tiny_synthetic.conf"
model = { head = { num_classes = 80; }; };
data = { batch_size = 2; workers = 1;
  train = { dataset = { type = "yolo"; names_file = "$out/v5/coco128.yaml"; split = "train"; };
    pipeline = ( { type = "letterbox"; size = [64, 64]; },
                 { type = "normalize"; mean = [0.0, 0.0, 0.0]; std = [255.0, 255.0, 255.0]; } ); }; };
schedule = { by_epoch = false; max_iters = 1; warmup_iters = 0; };
evaluation = { interval = 0; };
CONF
  "$wb" run "$out/v5/exp.conf" --work-dir "$out/v5/run" >"$out/v5/run.txt" 2>&1 || { cat "$out/v5/run.txt"; exit 1; }
  grep -F "yolo: 128 images, 929 boxes, 80 classes" "$out/v5/run.txt"
  expect_fail 1 "coco128.yaml has no \`test\`" "$out/v5/no_test.txt" -- \
    "$wb" run "$out/v5/exp.conf" --set data.train.dataset.split=test --work-dir "$out/v5/no_test"

  echo "== hyp.scratch-low's values on yolov5n + coco128: every name finds its target"
  printf '%s\n' "lr0: 0.01" "lrf: 0.01" "momentum: 0.937" "weight_decay: 0.0005" "warmup_epochs: 3.0" \
    "warmup_momentum: 0.8" "warmup_bias_lr: 0.1" "box: 0.05" "cls: 0.5" "cls_pw: 1.0" "obj: 1.0" "obj_pw: 1.0" \
    "iou_t: 0.20" "anchor_t: 4.0" "fl_gamma: 0.0" "hsv_h: 0.015" "hsv_s: 0.7" "hsv_v: 0.4" "degrees: 0.0" \
    "translate: 0.1" "scale: 0.5" "shear: 0.0" "perspective: 0.0" "flipud: 0.0" "fliplr: 0.5" "mosaic: 1.0" \
    "mixup: 0.0" "copy_paste: 0.0" >"$out/v5/scratch-low.yaml"
  cat >"$out/v5/yolov5n.conf" <<CONF
@include "$src/configs/_base_/default_runtime.conf"
@include "$src/configs/_base_/datasets/coco128_yolo.conf"
@include "$src/configs/_base_/models/yolov5_n.conf"
data = { data_root = "$coco128"; };
CONF
  "$wb" validate "$out/v5/yolov5n.conf" --hyp "$out/v5/scratch-low.yaml" >"$out/v5/yolov5n.txt" 2>&1 \
    || { cat "$out/v5/yolov5n.txt"; exit 1; }
  grep -F "scratch-low.yaml: 24 values set, 0 without a target in this experiment" "$out/v5/yolov5n.txt"
  if grep -F "warning" "$out/v5/yolov5n.txt"; then echo "no hyp name should lack a target with yolov5n"; exit 1; fi
else
  echo "the v5.0 data.yaml and yolov5n cases not run: no $coco128 (the shared datasets)"
fi

venv=${WB_YOLOV5_VENV:-$HOME/.cache/workbench/yolov5-venv}
hyps=$(ls "$venv"/lib/python3*/site-packages/yolov5/data/hyps/hyp.scratch-*.yaml 2>/dev/null || true)
if [ -n "$hyps" ]; then
  for h in $hyps; do
    "$wb" validate "$out/exp.conf" --hyp "$h" >"$out/venv_hyp.txt" 2>&1 || { cat "$out/venv_hyp.txt"; exit 1; }
    echo "YOLOv5's $(basename "$h") validates: $(grep -c warning "$out/venv_hyp.txt") names without a target here"
  done
else
  echo "YOLOv5's own hyp files not tried: no yolov5 package in $venv (scripts/setup.sh makes it)"
fi

echo "== image_weights: resume after epoch 1 is exact"
common=(--set data.image_weights=true --set schedule.max_epochs=2 --set "schedule.milestones=[2]")
"$wb" run "$out/exp.conf" "${common[@]}" --work-dir "$out/iw_straight" >"$out/iw1.txt" 2>&1 || { cat "$out/iw1.txt"; exit 1; }
grep -F "image_weights:" "$out/iw1.txt"
"$wb" run "$out/exp.conf" --set data.image_weights=true --set schedule.max_epochs=1 --set "schedule.milestones=[2]" \
  --work-dir "$out/iw_resumed" >"$out/iw2.txt" 2>&1 || { cat "$out/iw2.txt"; exit 1; }
"$wb" run "$out/exp.conf" "${common[@]}" --work-dir "$out/iw_resumed" --resume >"$out/iw3.txt" 2>&1 \
  || { cat "$out/iw3.txt"; exit 1; }
cmp "$out/iw_straight/epoch_2.safetensors" "$out/iw_resumed/epoch_2.safetensors"
echo "image_weights: the resumed run is bit-identical to the uninterrupted one"
