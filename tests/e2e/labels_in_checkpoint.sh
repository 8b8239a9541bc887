#!/usr/bin/env bash
# Class names travel in the checkpoint: a short training on generated VOC
# shapes writes class_names, category_ids, num_classes and the test pipeline
# into every checkpoint's __metadata__; `workbench infer` then labels pictures
# with them after the dataset's annotation files are gone. A checkpoint
# without them (as older ones) makes infer read the dataset, which now fails
# with the dataset's own message. About 5 s.
#   labels_in_checkpoint.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
/usr/bin/python3 "$src/tests/e2e/make_shapes_voc.py" "$out/shapes"

norm='{ type = "normalize"; mean = [127.5, 127.5, 127.5]; std = [64.0, 64.0, 64.0]; to_rgb = true; }'
classes='classes = ["square", "disc", "triangle"];'
cat > "$out/shapes.conf" <<EOF2
@include "$src/configs/_base_/default_runtime.conf"
work_dir = "$out/work";
model = {
  backbone = { type = "tiny_cnn"; widths = [16, 32, 64]; };
  head = { type = "center_head"; num_classes = 3; feat_channels = 64; score_thr = 0.0; max_per_img = 10; };
};
data = {
  data_root = "$out/shapes";
  batch_size = 8;
  train = {
    dataset = { type = "voc"; split = "ImageSets/Main/train.txt"; $classes };
    pipeline = ( { type = "random_flip"; prob = 0.5; }, $norm );
  };
  test = {
    dataset = { type = "voc"; split = "ImageSets/Main/val.txt"; $classes };
    pipeline = ( $norm );
  };
};
optimizer = { type = "sgd"; lr = 0.02; momentum = 0.9; weight_decay = 0.0001; grad_clip = 10.0; };
schedule = { by_epoch = true; max_epochs = 1; policy = "step"; milestones = [1]; gamma = 0.1;
             warmup = "linear"; warmup_iters = 5; warmup_ratio = 0.1; };
evaluation = { interval = 0; };
checkpoint = { interval = 1; };
EOF2
"$wb" run "$out/shapes.conf" >"$out/run.txt" 2>&1 || { cat "$out/run.txt"; exit 1; }
ckpt="$out/work/epoch_1.safetensors"

# The metadata, read without workbench.
/usr/bin/python3 - "$ckpt" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    meta = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))["__metadata__"]
assert meta["num_classes"] == "3", meta
assert json.loads(meta["class_names"]) == ["square", "disc", "triangle"], meta["class_names"]
assert json.loads(meta["category_ids"]) == [1, 2, 3], meta["category_ids"]  # VOC: 1-based
assert 'split = "test"' in meta["test_pipeline"] and "normalize" in meta["test_pipeline"], meta["test_pipeline"]
print("checkpoint metadata:", meta["class_names"], meta["category_ids"])
PY

# The annotations are gone: infer labels with the stored names.
mkdir -p "$out/images"
cp "$out/shapes/JPEGImages/shapes_00"*.jpg "$out/images/"
rm -rf "$out/shapes/Annotations" "$out/shapes/ImageSets"
"$wb" infer "$out/shapes.conf" "$ckpt" "$out/images" --out "$out/shown" >"$out/infer.txt" 2>&1 \
  || { cat "$out/infer.txt"; exit 1; }
grep -E "^[0-9]+ image\(s\) written to $out/shown/ \(0 skipped\)" "$out/infer.txt"
! grep -q "^note: this experiment's test-time input settings" "$out/infer.txt"
/usr/bin/python3 - "$out/shown" <<'PY'
import json, sys
cats = json.load(open(sys.argv[1] + "/results.categories.json"))
cats = cats["categories"] if isinstance(cats, dict) else cats
assert [(c["id"], c["name"]) for c in cats] == [(1, "square"), (2, "disc"), (3, "triangle")], cats
ids = {d["category_id"] for d in json.load(open(sys.argv[1] + "/results.json"))}
assert ids and ids <= {1, 2, 3}, ids
print("infer labelled with the checkpoint's names:", [c["name"] for c in cats], "detections of ids", sorted(ids))
PY

# Other test-time settings than the model was trained with: said.
"$wb" infer "$out/shapes.conf" "$ckpt" "$out/images" --set data.size_divisor=64 --out "$out/shown64" \
  >"$out/infer64.txt" 2>&1 || { cat "$out/infer64.txt"; exit 1; }
grep "^note: this experiment's test-time input settings (data.test or data.val: pipeline, size_divisor) differ from those $ckpt was trained with" \
  "$out/infer64.txt" || { cat "$out/infer64.txt"; exit 1; }

# A checkpoint without names: infer needs the dataset, whose split file is gone.
/usr/bin/python3 - "$ckpt" "$out/old.safetensors" <<'PY'
import json, struct, sys
data = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
for key in ("num_classes", "class_names", "category_ids", "test_pipeline"):
    del header["__metadata__"][key]
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(text)) + text + data[8 + n:])
PY
set +e
"$wb" infer "$out/shapes.conf" "$out/old.safetensors" "$out/images" --out "$out/shown_old" >"$out/infer_old.txt" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$out/infer_old.txt"; echo "expected exit 1, got $rc"; exit 1; }
grep -E "^error: data.test.dataset: .*val.txt" "$out/infer_old.txt" || { cat "$out/infer_old.txt"; exit 1; }
echo "without stored names infer reads the dataset: $(head -1 "$out/infer_old.txt")"

# A checkpoint of another model: the error names the tensors and both shapes.
set +e
"$wb" infer "$out/shapes.conf" "$ckpt" "$out/images" --set model.head.num_classes=4 --out "$out/shown4" \
  >"$out/infer4.txt" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$out/infer4.txt"; echo "expected exit 1, got $rc"; exit 1; }
grep -E "^error: $ckpt does not fit this experiment's model: [0-9]+ of its [0-9]+ parameters fit; [0-9]+ with another shape: head\.[a-z_.]+: model \[4(, [0-9]+)*\], file \[3(, [0-9]+)*\]" \
  "$out/infer4.txt" || { cat "$out/infer4.txt"; exit 1; }
! grep -q "(first: )" "$out/infer4.txt"
echo "mismatch: $(cat "$out/infer4.txt")"
