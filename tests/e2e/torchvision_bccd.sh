#!/usr/bin/env bash
# torchvision-trained weights give torchvision's detections on real pictures:
# a RetinaNet-R18 (tools/export_torchvision.py, F16 safetensors) run by
# torchvision on 4 BCCD pictures (640x480: the P6 / P7 strides are 60 / 120
# vertically) and by `workbench infer` with anchor_sizes = "rounded"; every
# detection must be reproduced (box 1e-3 px, score 1e-5). Needs
# ../shared/datasets/bccd beside the checkout; without it the test is skipped
# (exit 77) saying so. About 15 s.
#   torchvision_bccd.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
bccd="$src/../shared/datasets/bccd"
if [ ! -d "$bccd/JPEGImages" ]; then
  echo "SKIPPED: $bccd is absent (the shared BCCD dataset beside the checkout, see ../shared/README.md)"
  exit 77
fi
rm -rf "$out" && mkdir -p "$out/images"
for name in $(head -4 "$bccd/ImageSets/Main/val.txt"); do cp "$bccd/JPEGImages/$name.jpg" "$out/images/"; done
/usr/bin/python3 "$src/tests/e2e/torchvision_bccd.py" export "$out" "$out/images/"*.jpg

classes='classes = ["RBC", "WBC", "Platelets"];'
cat > "$out/r18.conf" <<EOF2
@include "$src/configs/_base_/default_runtime.conf"
model = {
  backbone = { type = "resnet"; depth = 18; out_indices = [1, 2, 3]; frozen_stages = -1; norm = "bn"; };
  neck = { type = "fpn"; out_channels = 256; start_level = 0; num_outs = 5;
           add_extra_convs = "on_output"; relu_before_extra_convs = true; };
  head = { type = "retina_head"; num_classes = 3; anchor_sizes = "rounded"; score_thr = 0.05; nms_pre = 1000;
           iou_threshold = 0.5; max_per_img = 300; };
};
data = {
  data_root = "$bccd";
  size_divisor = 32;
  train = {
    dataset = { type = "voc"; split = "ImageSets/Main/train.txt"; $classes };
  };
  test = {
    dataset = { type = "voc"; split = "ImageSets/Main/val.txt"; $classes };
    pipeline = ( { type = "normalize"; mean = [123.675, 116.28, 103.53]; std = [58.395, 57.12, 57.375];
                   to_rgb = true; } );
  };
};
EOF2
"$wb" infer "$out/r18.conf" "$out/r18.safetensors" "$out/images" --out "$out/shown" >"$out/infer.txt" 2>&1 \
  || { cat "$out/infer.txt"; exit 1; }
/usr/bin/python3 "$src/tests/e2e/torchvision_bccd.py" compare "$out"
