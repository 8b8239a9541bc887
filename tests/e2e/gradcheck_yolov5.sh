#!/usr/bin/env bash
# `workbench gradcheck` on the YOLOv5 backbone and neck: the backward of
# cspdarknet (Conv-BN-SiLU, C3 with shortcut, SPPF's chained max-pools) and of
# yolov5_pafpn (upsampling, concatenation, C3 without shortcut, 3x3/2 convs)
# agrees with finite differences on every parameter tensor and the inputs,
# in training mode (batch statistics). Small widths keep it quick.
set -uo pipefail
wb=$1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail=0
run() {  # run ARGS...: expects exit 0 and the passed line
  "$wb" "$@" >"$log" 2>&1
  local rc=$?
  if [ "$rc" != 0 ] || ! grep -q "^gradcheck passed" "$log"; then
    echo "FAILED: workbench $* exited $rc"; cat "$log"; fail=1
  else
    echo "ok: workbench $* ($(grep -c '^PASS d/d' "$log") tensors)"
  fi
}
# widen 0.03: every width rounds up to 8 (stem) .. 32 (c5); deepen 0.33: one bottleneck per C3.
run gradcheck cspdarknet --quick --set widen_factor=0.03 --set deepen_factor=0.33
grep -qF "PASS d/d backbone.stage4.2.conv1.conv.weight" "$log" || { echo "FAILED: SPPF not checked"; fail=1; }
# Three different widths, so that a swapped channel count cannot pass.
run gradcheck yolov5_pafpn --quick --inputs c3:8:8,c4:16:16,c5:24:32 --size 64 --set deepen_factor=0.33
grep -qF "PASS d/d input c5" "$log" || { echo "FAILED: the neck's inputs not checked"; cat "$log"; fail=1; }
exit $fail
