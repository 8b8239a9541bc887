#!/usr/bin/env bash
# Hostile datasets and images. A dataset where no image decodes (git-lfs
# pointers) stops with one summary instead of looping over epochs; warnings
# are rate-limited. Images above data.max_image_pixels and label files with
# more than data.max_boxes_per_image boxes are refused, naming the setting.
# A FIFO among the images of `infer` is skipped at once. Experiments that
# cannot fit in memory (batches, model outputs, or loader threads each holding
# the largest image allowed) are refused by validate and before run starts.
#   hostile_data.sh WORKBENCH SOURCE_DIR SCRATCH_DIR PLUGIN_BUILD_DIR FIXTURE_DIR
set -euo pipefail
wb=$1 src=$2 scratch=$3 plugins=$4
rm -rf "$scratch" && mkdir -p "$scratch"
cd "$scratch"

fail() {
  echo "FAILED: $*"
  [ -f out.txt ] && tail -40 out.txt
  exit 1
}

# expect WANT PATTERN ARGS...: workbench ARGS exits WANT and its output contains PATTERN.
expect() {
  local want=$1 pattern=$2
  shift 2
  local got=0
  timeout 300 "$wb" "$@" --plugin-dir "$plugins" >out.txt 2>&1 || got=$?
  [ "$got" = "$want" ] || fail "workbench $* exited $got, expected $want"
  grep -qF -- "$pattern" out.txt || fail "workbench $* did not say: $pattern"
  echo "ok: workbench $1 ... -> exit $got, says: $pattern"
}

# A YOLO dataset in $1 of $2 images made by the command $3 (called with the image path).
dataset() {
  mkdir -p "$1/images" "$1/labels"
  for i in $(seq 1 "$2"); do
    "$3" "$1/images/im$i.jpg"
    echo "0 0.5 0.5 0.2 0.2" >"$1/labels/im$i.txt"
  done
}

# A tiny detector training 2 iterations on the dataset in $1, resizing to $2 px.
experiment() {
  cat <<CONF
@include "$src/configs/_base_/default_runtime.conf"
model = { backbone = { type = "tiny_cnn"; widths = [8, 16, 32]; };
          head = { type = "center_head"; num_classes = 1; feat_channels = 8; }; };
schedule = { by_epoch = false; max_iters = 2; warmup = "none"; };
checkpoint = { interval = 0; };
work_dir = "$scratch/work_$(basename "$1")";
data = { batch_size = 2; workers = 2;
  train = { dataset = { type = "yolo"; images = "$1/images"; names = ["a"]; };
    pipeline = ( { type = "resize"; scale = [${2:-64}, ${2:-64}]; keep_ratio = false; },
                 { type = "normalize"; mean = [127.5, 127.5, 127.5]; std = [64.0, 64.0, 64.0]; } ); }; };
CONF
}

lfs_pointer() { printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 48213\n' "$(basename "$1")" >"$1"; }
good_jpeg() { /usr/bin/python3 -c "from PIL import Image; Image.new('RGB', (48, 40), (90, 120, 30)).save('$1')"; }

echo "== a dataset of git-lfs pointers: one summary, exit 1, bounded warnings"
dataset lfs 300 lfs_pointer
experiment "$scratch/lfs" >lfs.conf
expect 1 "samples in a row failed to load" run lfs.conf
grep -qF 'a git-lfs pointer, not the image; fetch the images with `git lfs pull`' out.txt || fail "no reason"
grep -qF '`workbench check EXPERIMENT` lists every bad image' out.txt || fail "no advice"
warnings=$(grep -c "skipping sample" out.txt || true)
[ "$warnings" -le 10 ] || fail "$warnings per-sample warnings, expected at most 10"
[ "$(grep -c "failed to load" out.txt)" = 1 ] || fail "more than one summary"
grep "skipping sample" out.txt | grep -q "lfs/images/im[0-9]*.jpg: a git-lfs" || fail "warning lacks the path"
grep "skipping sample" out.txt | grep "images/im[0-9]*.jpg.*images/im" && fail "a warning repeats the path"
echo "ok: $warnings per-sample warnings, one summary"

echo "== an image above data.max_image_pixels (8193 x 8193 > 2^26)"
mkdir -p big/images big/labels
/usr/bin/python3 -c "from PIL import Image; Image.new('RGB', (8193, 8193)).save('big/images/big.png')"
echo "0 0.5 0.5 0.2 0.2" >big/labels/big.txt
cp big/images/big.png big/images/big2.png && cp big/labels/big.txt big/labels/big2.txt
experiment "$scratch/big" >big.conf
expect 1 "big/images/big.png: image is 8193x8193 (67125249 pixels), above data.max_image_pixels = 67108864; downscale the image or raise data.max_image_pixels" run big.conf
expect 0 "done after 2 iterations" run big.conf --set data.max_image_pixels=67125249

echo "== a label file with more boxes than data.max_boxes_per_image"
dataset boxes 2 good_jpeg
for i in $(seq 1 1001); do echo "0 0.5 0.5 0.1 0.1"; done >boxes/labels/im1.txt
experiment "$scratch/boxes" >boxes.conf
expect 1 "boxes/images/im1.jpg: 1001 boxes, above data.max_boxes_per_image = 1000" run boxes.conf --set 'data.on_bad_sample="fail"'
expect 0 "done after 2 iterations" run boxes.conf --set data.max_boxes_per_image=1001

echo "== infer: a FIFO among the images is skipped at once"
dataset ok 2 good_jpeg
experiment "$scratch/ok" >ok.conf
expect 0 "done after 2 iterations" run ok.conf
mkdir pictures && good_jpeg pictures/a.jpg && mkfifo pictures/b.jpg
ckpt=$(ls "$scratch"/work_ok/iter_2.safetensors)
expect 0 "warning: skipped pictures/b.jpg: is a FIFO (named pipe); expected a regular file" infer ok.conf "$ckpt" pictures --out shown
test -f shown/a.jpg || fail "pictures/a.jpg was not drawn"
expect 1 "warning: skipped pictures/b.jpg: is a FIFO (named pipe); expected a regular file" infer ok.conf "$ckpt" pictures/b.jpg --out shown2

echo "== experiments that cannot fit in memory"
big_resize=(--set 'data.train.pipeline.0.scale=[65536, 65536]')
expect 2 "more than this machine's" validate ok.conf "${big_resize[@]}"
grep -qF "lower data.batch_size (2) or the size the pipelines resize images to (up to 4294967296 pixels per image)" out.txt \
  || fail "no key to lower"
expect 2 "more than this machine's" validate ok.conf --set data.batch_size=4096 --set 'data.train.pipeline.0.scale=[4096, 4096]'
expect 2 "or model.head's 100000 output channels (num_classes?)" validate ok.conf --set model.head.num_classes=100000 --set 'data.train.pipeline.0.scale=[8192, 8192]'
# no resize first: every loader thread may hold a whole 2^28-pixel image (17 bytes a pixel)
sed 's/{ type = "resize"; scale = \[64, 64\]; keep_ratio = false; }/{ type = "random_flip"; }/' ok.conf >flip.conf
expect 2 "loader threads' images 1088.0 GiB), more than this machine's" validate flip.conf --set data.workers=256 \
  --set data.max_image_pixels=268435456
grep -qF "lower data.workers (256) or data.max_image_pixels (268435456)" out.txt || fail "no key to lower"
rm -rf work_ok
expect 2 "more than this machine's" run ok.conf "${big_resize[@]}"
[ ! -e work_ok/iter_1.safetensors ] || fail "run trained although refused"
echo "all hostile data checks passed"
