#!/usr/bin/env bash
# Class names in pictures. `infer` on an experiment whose classes are named in
# Chinese and in bytes that are not UTF-8 writes its picture with every label
# in real glyphs (no font lacks a character). With no font installed at all it
# still writes the picture, boxes without labels, and says once which package
# to install.
#   hostile_text.sh WORKBENCH SOURCE_DIR SCRATCH_DIR PLUGIN_BUILD_DIR FIXTURE_DIR
set -euo pipefail
wb=$1 src=$2 scratch=$3 plugins=$4
rm -rf "$scratch" && mkdir -p "$scratch"
cd "$scratch"

fail() {
  echo "FAILED: $*"
  [ -f out.txt ] && tail -40 out.txt
  exit 1
}

# A 2-class YOLO dataset of two images and one picture to infer on.
mkdir -p data/images data/labels pictures
/usr/bin/python3 - <<'PY'
from PIL import Image
for i in range(2):
    Image.new("RGB", (96, 80), (90, 120, 30)).save(f"data/images/im{i}.jpg")
    open(f"data/labels/im{i}.txt", "w").write("0 0.5 0.5 0.3 0.3\n1 0.3 0.3 0.2 0.2\n")
Image.new("RGB", (320, 240), (90, 120, 30)).save("pictures/cells.jpg")
PY
# 红细胞 (red blood cell), and a name with the byte 0xff, which UTF-8 never uses.
cat >exp.conf <<CONF
@include "$src/configs/_base_/default_runtime.conf"
model = { backbone = { type = "tiny_cnn"; widths = [8, 16, 32]; };
          head = { type = "center_head"; num_classes = 2; feat_channels = 8; score_thr = 0.0; max_per_img = 1000; }; };
schedule = { by_epoch = false; max_iters = 2; warmup = "none"; };
checkpoint = { interval = 0; };
work_dir = "$scratch/work";
data = { batch_size = 2; workers = 1;
  train = { dataset = { type = "yolo"; images = "$scratch/data/images"; names = ["红细胞", "bad \\xff name"]; };
    pipeline = ( { type = "resize"; scale = [64, 64]; keep_ratio = false; },
                 { type = "normalize"; mean = [127.5, 127.5, 127.5]; std = [64.0, 64.0, 64.0]; } ); }; };
CONF
printf '<?xml version="1.0"?>\n<fontconfig></fontconfig>\n' >nofonts.conf

timeout 300 "$wb" run exp.conf --plugin-dir "$plugins" >out.txt 2>&1 || fail "training 2 iterations failed"
ckpt=work/iter_2.safetensors

echo "== infer draws the Chinese and the invalid UTF-8 class names in real glyphs"
timeout 300 "$wb" infer exp.conf "$ckpt" pictures --out shown --score-thr 0 --plugin-dir "$plugins" >out.txt 2>&1 \
  || fail "infer failed"
test -f shown/cells.jpg || fail "no picture shown/cells.jpg"
if grep -F "drawn as boxes" out.txt; then fail "a label has characters no font has (scripts/setup.sh installs fonts-noto-cjk)"; fi
if grep -F "no font" out.txt; then fail "fontconfig found no font"; fi
echo "ok: shown/cells.jpg, every label character in an installed font"

echo "== no font installed: the picture is still written, boxes without labels, one warning naming the package"
FONTCONFIG_FILE=$scratch/nofonts.conf timeout 300 "$wb" infer exp.conf "$ckpt" pictures --out bare --score-thr 0 \
  --plugin-dir "$plugins" >out.txt 2>&1 || fail "infer without fonts failed"
test -f bare/cells.jpg || fail "no picture bare/cells.jpg"
[ "$(grep -c "fontconfig finds no font: pictures show boxes without labels; install fonts-dejavu-core" out.txt)" = 1 ] \
  || fail "expected one warning naming fonts-dejavu-core"
/usr/bin/python3 - <<'PY' || fail "the labels were not drawn"
from PIL import Image, ImageChops
labelled, bare = Image.open("shown/cells.jpg"), Image.open("bare/cells.jpg")
box = ImageChops.difference(labelled, bare).getbbox()
assert box is not None, "the pictures with and without fonts are the same"
print(f"ok: the labels differ from the bare picture in the region {box}")
PY
echo "ok: class names in pictures"
