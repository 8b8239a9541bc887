#!/usr/bin/env bash
# `workbench validate`: lists each module's sub-modules with their plugin
# file, names the module whose forward breaks its declared specs (a neck, not
# the head after it), and refuses a load_from that is not a readable file,
# naming where it was set.
# Usage: validate_modules.sh WORKBENCH SOURCE_DIR SCRATCH_DIR FIXTURE_DIR
set -euo pipefail
wb=$1 src=$2 out=$3 fixtures=$4
source "$src/tests/e2e/expect_fail.sh"
rm -rf "$out" && mkdir -p "$out" && cd "$out"

cat > small.conf <<EOF
@include "$src/configs/_base_/default_runtime.conf"
@include "$src/configs/_base_/datasets/synthetic.conf"
model = {
  backbone = { type = "tiny_cnn"; widths = [8, 16]; };
  head = { type = "retina_head"; num_classes = 3; feat_channels = 8; stacked_convs = 1; strides = [4]; };
};
EOF

echo "== sub-modules are listed under their module, with the plugin file"
"$wb" validate small.conf --set model.head.loss_bbox.type=giou --set model.head.reg_decoded_bbox=true >list.txt
grep -A2 "^  head     retina_head" list.txt
grep -q "^  head     retina_head .*\[wb_head_retina_head.so\]$" list.txt
grep -q "^           loss_cls: focal_loss \[wb_loss_basic.so\]$" list.txt
grep -q "^           loss_bbox: giou \[wb_loss_basic.so\]$" list.txt

echo "== a neck whose forward breaks its specs is named, not the head that reads it"
expect_fail 2 "neck 'neck' (type bad_neck) declared output 0 'c2' with 16 channels at stride 4, but forward returned [1, 17, 64, 64]" \
  neck.txt -- "$wb" --plugin-dir "$fixtures" validate small.conf --set model.neck.type=bad_neck
if grep -q "head '" neck.txt; then echo "the head was blamed"; exit 1; fi

echo "== load_from must be a readable file, named where it was set"
expect_fail 2 "<command line>:1: error: load_from: missing.safetensors: No such file or directory; give a readable safetensors file" \
  missing.txt -- "$wb" validate small.conf --set load_from=missing.safetensors
printf '@include "small.conf"\nload_from = "%s";\n' "$out" >dir.conf
expect_fail 2 "dir.conf:2: error: load_from: $out: is a directory; expected a regular file" \
  dir.txt -- "$wb" validate dir.conf
: >weights.safetensors
"$wb" validate small.conf --set load_from=weights.safetensors >/dev/null
echo "validate_modules: all passed"
