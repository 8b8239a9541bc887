#!/usr/bin/env bash
# train.recompute (activation recompute of whole stages): training with it
# ends with checkpoints byte-identical to training without it (weights,
# batch norm running statistics, optimizer state), for the tiny detector's
# backbone and for Faster R-CNN R-18's backbone and FPN neck, so the second
# forward's statistics are undone; with it, less is alive after the
# backbone's forward (bench's memory line); a stage that is not the backbone
# or the neck is refused with exit 2.
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$src"
export OMP_WAIT_POLICY=PASSIVE
tiny=configs/tiny/center_tiny_synthetic.conf
cat >"$out/frcnn.conf" <<CONF
@include "$src/configs/_base_/models/faster_rcnn_r50_fpn.conf"
@include "$src/configs/_base_/datasets/synthetic.conf"
@include "$src/configs/_base_/default_runtime.conf"
model = {
  backbone = { depth = 18; frozen_stages = -1; norm = "bn"; norm_eval = false; };
  head = { num_classes = 3; fc_channels = 128; sampler_num = 64; rpn = { train_nms_pre = 200; train_max_per_img = 100; }; };
};
optimizer = { type = "sgd"; lr = 0.01; momentum = 0.9; weight_decay = 0.0001; };
schedule = { by_epoch = true; max_epochs = 1; policy = "step"; milestones = [1]; warmup_iters = 0; };
CONF
common=(--set evaluation.interval=0 --set checkpoint.interval=1 --set checkpoint.keep=0 --threads 2)

train() { # name config recompute-modules-or-empty extra...
  local name=$1 conf=$2 modules=$3; shift 3
  local rc=()
  [ -n "$modules" ] && rc=(--set "train.recompute={modules=$modules;}")
  "$wb" run "$conf" "${common[@]}" "$@" "${rc[@]}" --work-dir "$out/$name" >"$out/$name.txt" 2>&1 \
    || { cat "$out/$name.txt"; exit 1; }
}

echo "== tiny detector, 4 iterations of batch 4, backbone recomputed or not"
tiny_args=(--set data.train.dataset.num_images=16 --set data.batch_size=4 --set schedule.max_epochs=1)
train tiny_plain "$tiny" "" "${tiny_args[@]}"
train tiny_recompute "$tiny" '["backbone"]' "${tiny_args[@]}"
cmp "$out/tiny_plain/epoch_1.safetensors" "$out/tiny_recompute/epoch_1.safetensors"

echo "== Faster R-CNN R-18 FPN, 2 iterations of batch 2 at 128x128, backbone and neck recomputed or not"
frcnn_args=(--set data.train.dataset.num_images=4 --set data.batch_size=2 --set data.workers=1)
train frcnn_plain "$out/frcnn.conf" "" "${frcnn_args[@]}"
train frcnn_recompute "$out/frcnn.conf" '["backbone", "neck"]' "${frcnn_args[@]}"
cmp "$out/frcnn_plain/epoch_1.safetensors" "$out/frcnn_recompute/epoch_1.safetensors"
/usr/bin/python3 - "$out/frcnn_plain/epoch_1.safetensors" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    names = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
stats = [k for k in names if k.startswith("backbone.") and k.endswith("running_mean")]
assert len(stats) >= 10, stats
print(f"{len(stats)} backbone batch norms' running statistics among the identical bytes")
PY
echo "checkpoints byte-identical with and without recompute"

echo "== less alive after the recomputed backbone's forward (tiny detector at 512x512, batch 2)"
live_after_backbone() {
  "$wb" --threads 2 bench "$tiny" --size 512 --batch 2 --iters 1 "$@" >"$out/bench.txt" 2>&1 \
    || { cat "$out/bench.txt"; exit 1; }
  sed -n 's/.*backbone forward [0-9.]* \/ \([0-9.]*\),.*/\1/p' "$out/bench.txt"
}
plain=$(live_after_backbone)
recomputed=$(live_after_backbone --set 'train.recompute={modules=["backbone"];}')
echo "tensor pool live after the backbone's forward: $plain MiB without, $recomputed MiB with recompute"
/usr/bin/python3 -c "import sys; p, r = map(float, sys.argv[1:]); assert r < 0.5 * p, (p, r)" "$plain" "$recomputed"

echo "== refusals"
set +e
"$wb" run "$tiny" --set 'train.recompute={modules=["head"];}' --work-dir "$out/bad" >"$out/bad.txt" 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || { echo "expected exit 2, got $rc"; cat "$out/bad.txt"; exit 1; }
grep -q "train.recompute.modules: 'head' cannot be recomputed" "$out/bad.txt"
grep -q 'name "backbone" (this model has no neck)' "$out/bad.txt"
echo "refused: $(grep -o "train.recompute.modules:.*" "$out/bad.txt" | head -1)"
