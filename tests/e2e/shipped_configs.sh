#!/usr/bin/env bash
# Every experiment shipped under configs/ (not the _base_ pieces) passes `workbench validate`: its keys against
# the schemas, and its model built and run forward. Then, with ../shared beside the checkout, `workbench check`
# of the YOLOv5 experiments' data finds exactly the defects their dataset bases document (BCCD: one box of zero
# area in train and one in val/test; coco128: two label files without an image per split, two background
# images as notes) and no class out of range: 80 names from coco128's data.yaml, 3 classes for BCCD.
# Usage: shipped_configs.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$src"
n=0
while IFS= read -r exp; do
  log="$out/$(basename "$exp" .conf).validate.txt"
  "$wb" --threads 1 validate "$exp" >"$log" 2>&1 || { cat "$log"; echo "FAILED: workbench validate $exp"; exit 1; }
  tail -1 "$log" | grep -qx valid || { cat "$log"; echo "FAILED: validate $exp did not say valid"; exit 1; }
  n=$((n + 1))
done < <(find configs -name '*.conf' -not -path 'configs/_base_/*' | sort)
[ "$n" -ge 8 ] || { echo "FAILED: only $n experiments found under configs/"; exit 1; }
echo "ok: $n shipped experiments validate"

[ -d "$src/../shared/datasets" ] || { echo "SKIPPED: no ../shared/datasets beside the checkout for the checks"; exit 77; }
check() {  # check EXP DEFECTS ROW...: check exits 1 with DEFECTS defects and each summary ROW as given
  local exp=$1 defects=$2 log
  log="$out/$(basename "$1" .conf).check.txt"
  shift 2
  local rc=0
  "$wb" check "$exp" >"$log" 2>&1 || rc=$?
  [ "$rc" = 1 ] || { cat "$log"; echo "FAILED: check $exp exited $rc, expected 1 (the documented defects)"; exit 1; }
  grep -qx "$defects defect(s) found" "$log" || { cat "$log"; echo "FAILED: check $exp: not $defects defects"; exit 1; }
  for row in "$@"; do
    grep -qE "^$row\$" "$log" || { cat "$log"; echo "FAILED: check $exp: no summary row /$row/"; exit 1; }
  done
  echo "ok: check $exp: $defects documented defects"
}
check configs/yolov5/yolov5_n_bccd.conf 3 \
  "zero or negative box area +1 +1 +1" "label out of range or unknown class +0 +0 +0"
for v in n s; do
  check "configs/yolov5/yolov5_${v}-v61_fast_1xb16-300e_coco128.conf" 4 \
    "label file without an image +2 +2" "image without a label file \(note\) +2 +2" \
    "label out of range or unknown class +0 +0"
  grep -q "(80 classes)" "$out/yolov5_${v}-v61_fast_1xb16-300e_coco128.check.txt" \
    || { echo "FAILED: coco128's data.yaml did not give 80 classes"; exit 1; }
done
echo "1 passed, 0 failed"
