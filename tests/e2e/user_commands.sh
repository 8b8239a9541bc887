#!/usr/bin/env bash
# What a user bringing a torchvision model meets at the command line:
#  - normalize with torchvision's 0-1 mean/std passes validation with a warning
#    that names the step and the values to write (x 255); 0-255 values give none
#  - `check` takes a dataset config alone (no model section); `run` still wants the model
#  - `eval --help` and `infer --help` say what the ids of results files mean and both infer thresholds
#  - `bench` takes WIDTHxHEIGHT and times that size
#  - the shipped dataset configs have a test split where the dataset has one, and
#    `eval --split` on a split the experiment lacks names those it has (exit 2)
# What runs a model runs on one thread (a busy machine's spinning OpenMP threads
# would make it many times slower).
#   user_commands.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$src"
source "$src/tests/e2e/expect_fail.sh"
tiny=configs/tiny/center_tiny_synthetic.conf

echo "== normalize with 0-1 mean and std: a warning with the values to write"
cat > "$out/torchvision_norm.conf" <<EOF2
@include "$src/$tiny"
data = { val = { pipeline = ( { type = "normalize"; mean = [0.485, 0.456, 0.406]; std = [0.229, 0.224, 0.225]; } ); }; };
EOF2
"$wb" validate "$out/torchvision_norm.conf" >"$out/norm.txt" 2>&1 || { cat "$out/norm.txt"; exit 1; }
grep -F "WARN  [config] $out/torchvision_norm.conf:2: data.val.pipeline[0]: normalize mean [0.485, 0.456, 0.406] and std [0.229, 0.224, 0.225] are all below 1, values for 0-1 pixels (torchvision's), but pixels here are 0-255: the model would see inputs about 255 times too large. Multiply both by 255: mean = [123.675, 116.28, 103.53]; std = [58.395, 57.12, 57.375];" "$out/norm.txt"
[ "$(grep -c "are all below 1" "$out/norm.txt")" = 1 ] || { cat "$out/norm.txt"; echo "expected one warning (data.val only)"; exit 1; }
"$wb" validate "$tiny" >"$out/norm_ok.txt" 2>&1
if grep -F "below 1" "$out/norm_ok.txt"; then echo "0-255 mean/std must not warn"; exit 1; fi

echo "== check takes a dataset config alone; run still wants a model"
for base in synthetic bccd coco128 coco128_yolo; do
  expect_fail 2 "missing required section 'model'" "$out/validate_$base.txt" -- \
    "$wb" validate "configs/_base_/datasets/$base.conf"
done
"$wb" check configs/_base_/datasets/synthetic.conf >"$out/check_synthetic.txt" 2>&1 \
  || { cat "$out/check_synthetic.txt"; exit 1; }
grep -F "== data.test: synthetic: generated, no files to scan" "$out/check_synthetic.txt"
tail -1 "$out/check_synthetic.txt" | grep -x "clean"
printf 'data = { train = { dataset = { type = "synthetic"; num_imagez = 3; }; }; };\n' > "$out/typo.conf"
expect_fail 2 "num_imagez" "$out/check_typo.txt" -- "$wb" check "$out/typo.conf"
expect_fail 2 "missing required section 'model'" "$out/run_data_only.txt" -- \
  "$wb" run configs/_base_/datasets/synthetic.conf --work-dir "$out/never"

echo "== the shipped dataset configs: test splits where the dataset has one"
/usr/bin/python3 - "$src" <<'PY'
import re, sys
src = sys.argv[1]
def test_split(name):
    text = open(f"{src}/configs/_base_/datasets/{name}.conf").read()
    m = re.search(r"\n  test = \{\s*dataset = \{([^}]*)\}", text)
    return m and " ".join(m.group(1).split())
# BCCD's test split is held back from the shared copy (data.test reads val.txt, so
# `check` over every split passes); synthetic draws a split from its own seed;
# coco128 is 128 train2017 images with no test split.
assert 'split = "ImageSets/Main/val.txt"' in test_split("bccd"), test_split("bccd")
assert "seed = 3" in test_split("synthetic"), test_split("synthetic")
assert test_split("coco128") is None and test_split("coco128_yolo") is None
print("test splits: bccd val.txt (test held back), synthetic seed 3; coco128: none")
PY
"$wb" --threads 1 run "$tiny" --set schedule.by_epoch=false --set schedule.max_iters=1 --set evaluation.interval=0 \
  --work-dir "$out/tiny" >"$out/tiny.txt" 2>&1 || { cat "$out/tiny.txt"; exit 1; }
"$wb" --threads 1 eval "$tiny" "$out/tiny/iter_1.safetensors" --split test >"$out/eval_test.txt" 2>&1 \
  || { cat "$out/eval_test.txt"; exit 1; }
grep -E "^bbox_mAP: [0-9.]+ \(64 images" "$out/eval_test.txt"
cat > "$out/no_test.conf" <<EOF2
@include "$src/configs/_base_/default_runtime.conf"
model = { backbone = { type = "tiny_cnn"; widths = [16, 32, 64]; };
          head = { type = "center_head"; num_classes = 3; feat_channels = 64; }; };
data = { train = { dataset = { type = "synthetic"; num_images = 8; }; };
         val = { dataset = { type = "synthetic"; num_images = 8; seed = 2; }; }; };
EOF2
expect_fail 2 "workbench eval: the experiment has no data.test (it has: train, val); evaluate one of those with --split, or add a data.test section (dataset and pipeline)" \
  "$out/eval_no_test.txt" -- "$wb" eval "$out/no_test.conf" "$out/tiny/iter_1.safetensors" --split test

echo "== --help says where the ids of results files come from, and both infer thresholds"
"$wb" eval --help | grep -F 'RESULTS.categories.json: {"categories": [{"id", "name"}, ...]}'
"$wb" eval --help | grep -F "data have none and are numbered 1..K in class order"
"$wb" infer --help | grep -F "pictures show detections scoring at least T (default 0.25, YOLOv5 detect.py's"
"$wb" infer --help | grep -F "results.json keeps detections scoring at least T (default 0: every detection the head"

echo "== bench takes WIDTHxHEIGHT"
"$wb" --threads 1 bench "$tiny" --size 160x96 --iters 1 --batch 1 >"$out/bench.txt" 2>&1 || { cat "$out/bench.txt"; exit 1; }
grep -E "^1 iterations of batch 1 at 160x96, [0-9]+ threads" "$out/bench.txt"
"$wb" --threads 1 bench "$tiny" --size 160x96 --iters 1 --batch 1 --inference >"$out/bench_inf.txt" 2>&1 \
  || { cat "$out/bench_inf.txt"; exit 1; }
grep -E "^1 inference iterations of batch 1 at 160x96, " "$out/bench_inf.txt"
expect_fail 2 "workbench bench: --size wants S or WIDTHxHEIGHT (e.g. 512 or 640x480), each from 1 to 8192, got '640x'" \
  "$out/bench_bad.txt" -- "$wb" bench "$tiny" --size 640x
echo "1 passed, 0 failed"
