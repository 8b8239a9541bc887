#!/usr/bin/env bash
# `workbench gradcheck`: the in-tree modules of every kind pass (a head with
# its loss sub-modules, every loss with every reduction, a neck in quick
# mode); a custom backward that is right passes and one that is wrong fails
# with exit 1, for a neck and for a loss; --set reads values as `run` does.
set -uo pipefail
wb=$1 fixtures=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
log=$out/log.txt
fail=0 passed=0
expect() {  # expect EXIT_CODE ARGS...
  local want=$1; shift
  "$wb" "$@" >"$log" 2>&1
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAILED: workbench $* exited $got, expected $want"; cat "$log"; fail=1
  else
    echo "ok: workbench $* -> $got"; passed=$((passed + 1))
  fi
}
has() {  # has FIXED_STRING: the last command's output contains it
  grep -qF -- "$1" "$log" || { echo "FAILED: no '$1' in the output of the last command"; cat "$log"; fail=1; }
}
count() {  # count REGEX N: the last command's output has N lines matching it
  local n; n=$(grep -cE -- "$1" "$log")
  [ "$n" = "$2" ] || { echo "FAILED: $n lines match '$1', expected $2"; cat "$log"; fail=1; }
}

expect 0 gradcheck tiny_cnn --set "widths=[8, 16]"
expect 0 gradcheck tiny_cnn --set "widths=[8, 16]" --set frozen_bn=true
expect 0 gradcheck center_head --set num_classes=3
has "PASS loss() returns 2 finite term(s)"

# A head with loss sub-modules: its forward and the gradient of its loss terms.
# Quick: one tower conv per branch + the two output convs, weight and bias each.
expect 0 gradcheck retina_head --quick
has "quick: feat_channels 256 -> 8, stacked_convs 4 -> 1"
count '^PASS d/d head\.' 8
has "PASS loss() returns 2 finite term(s): loss_cls"
count '^PASS d loss/d pred (cls_score|bbox_pred)_[0-4] ' 10
has "gradcheck passed: retina_head (head from wb_head_retina_head.so)"
# Sub-module keys and bare words, read as `run --set` reads them.
expect 0 gradcheck retina_head --quick --set loss_bbox.type=giou --set reg_decoded_bbox=true
expect 2 gradcheck retina_head --quick --set feat_channels=wide
has "feat_channels"
grep -q "/tmp/wb-gradcheck" "$log" && { echo "FAILED: a message names a temporary file"; cat "$log"; fail=1; }
# FCOS in quick mode (GroupNorm groups must divide the 8 quick channels): each tower's conv and GroupNorm and the
# three output convs, weight and bias each; then mmdetection's options, whose per-level Scale gets a gradient.
expect 0 gradcheck fcos_head --quick --set num_groups=4
count '^PASS d/d head\.' 14
count '^PASS d loss/d pred (cls_score|bbox_pred|centerness)_[0-4] ' 15
expect 0 gradcheck fcos_head --quick --set num_groups=4 --set assigner=mmdet --set center_offset=0.5 \
  --set norm_on_bbox=false --set scale_per_level=true --set centerness_on_reg=false --set conv_bias=false \
  --set bbox_loss_weight=centerness --set score=product
count '^PASS d/d head\.scales\.[0-4]\.scale ' 5

# Every in-tree loss with each reduction.
for loss in focal_loss cross_entropy l1 smooth_l1 iou giou diou ciou; do
  expect 0 gradcheck "$loss"
  for r in none sum mean; do has "-- reduction=$r, targets"; done
  count '^PASS d/d input pred ' 3
done
expect 0 gradcheck cross_entropy --set use_sigmoid=true
has "targets binary"
expect 0 gradcheck smooth_l1 --set reduction=sum --set beta=0.5
count '^PASS d/d input pred ' 1

# A neck in quick mode: 3 lateral and 3 output convs, weight and bias each (all 12
# probed; the kit once stopped at 9).
expect 0 gradcheck fpn --quick
has "quick: out_channels 256 -> 8"
count '^PASS d/d neck\.' 12
# PAFPN: 3 lateral, 3 fpn, 2 downsample and 2 pafpn convs, weight and bias each.
expect 0 gradcheck pafpn --quick
count '^PASS d/d neck\.' 20

# Hand-written backwards, right and wrong, found through --plugin-dir and WB_PLUGIN_PATH.
expect 0 --plugin-dir "$fixtures" gradcheck custom_relu --set factor=1.0
expect 1 --plugin-dir "$fixtures" gradcheck custom_relu
has "FAIL d/d input c3"
expect 1 --plugin-dir "$fixtures" gradcheck custom_relu --set factor=1.2  # 20% off is caught too
has "gradcheck FAILED: custom_relu (neck from fixture_custom_backward.so)"
expect 1 --plugin-dir "$fixtures" gradcheck scaled_l2 --target real
has "FAIL d/d input pred"
WB_PLUGIN_PATH=$fixtures expect 0 gradcheck scaled_l2 --target real --set factor=2
has "gradcheck passed: scaled_l2 (loss from fixture_wrong_loss.so)"
# The same wrong loss as a head's sub-module: the head's check blames the loss gradient.
expect 1 --plugin-dir "$fixtures" gradcheck retina_head --quick --set loss_cls.type=scaled_l2
has "FAIL d loss/d pred cls_score_0"
has "PASS d loss/d pred bbox_pred_0"
expect 0 --plugin-dir "$fixtures" gradcheck retina_head --quick --set loss_cls.type=scaled_l2 --set loss_cls.factor=2

expect 2 gradcheck no_such_module
has "--plugin-dir"
expect 2 gradcheck focal_loss --target maybe
[ $fail = 0 ] && echo "$passed passed, 0 failed"
exit $fail
