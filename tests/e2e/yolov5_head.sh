#!/usr/bin/env bash
# yolov5_head from the command line: `workbench gradcheck` of its convs and of
# its loss (YOLOv5's ComputeLoss: CIoU through the gather of the targets'
# cells, objectness and class BCE) with the default hyp, with every loss
# option on (focal, positive weights, label smoothing), and with one class
# (no class loss). All with gr = 0: YOLOv5's objectness target is the
# detached CIoU of the prediction (gr = 1), a dependence that finite
# differences see and, by YOLOv5's design, the gradient does not; with gr = 0
# the target is 1 and the loss a function of the predictions alone. Then `validate` of configs/_base_/models/yolov5_n.conf
# (cspdarknet + yolov5_pafpn + yolov5_head) on the synthetic data.
# Usage: yolov5_head.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -uo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out" && cd "$out" || exit 1
fail=0
gradcheck() {  # gradcheck ARGS...: expects exit 0, the passed line and the loss's predictions checked
  "$wb" gradcheck yolov5_head --quick --set gr=0 "$@" >log.txt 2>&1
  local rc=$?
  if [ "$rc" != 0 ] || ! grep -q "^gradcheck passed" log.txt || ! grep -q "^PASS d loss/d pred pred_2" log.txt; then
    echo "FAILED: workbench gradcheck yolov5_head --quick --set gr=0 $* exited $rc"; cat log.txt; fail=1
  else
    echo "ok: gradcheck yolov5_head $* ($(grep -c '^PASS d' log.txt) tensors; $(grep '^PASS loss()' log.txt))"
  fi
}
gradcheck
gradcheck --set fl_gamma=1.5 --set cls_pw=1.4 --set obj_pw=0.7 --set label_smoothing=0.1 --set num_classes=5
gradcheck --set num_classes=1
grep -q "loss_cls 0$" log.txt || { echo "FAILED: one class must give loss_cls 0 (YOLOv5: no class loss)"; fail=1; }

cat > yolov5n.conf <<CONF
@include "$src/configs/_base_/default_runtime.conf"
@include "$src/configs/_base_/datasets/synthetic.conf"
@include "$src/configs/_base_/models/yolov5_n.conf"
model = { head = { num_classes = 3; img_size = 128; }; };
CONF
if ! "$wb" validate yolov5n.conf >validate.txt 2>&1; then
  echo "FAILED: validate of configs/_base_/models/yolov5_n.conf"; cat validate.txt; fail=1
elif ! grep -q "head .*yolov5_head" validate.txt; then
  echo "FAILED: validate does not list the yolov5_head"; cat validate.txt; fail=1
else
  echo "ok: validate configs/_base_/models/yolov5_n.conf"; grep -E "backbone|neck|head" validate.txt | head -5
fi
exit $fail
