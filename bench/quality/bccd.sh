#!/usr/bin/env bash
# Quality on BCCD (bench/README.md, "Quality on BCCD"): trains each named BCCD experiment from scratch to its
# end in work_dirs/quality/NAME, resuming a run that stopped there, then prints its row: COCO bbox mAP, mAP@0.5
# and mAP@0.75 of the last validation (log.json), VOC mAP@0.5 of the last checkpoint (workbench eval with
# evaluation.metric "mAP") and the minutes this call trained.
#
#   bash bench/quality/bccd.sh [NAME...]     NAME: configs/*/NAME.conf; default: the six detectors below
#   WB=build/bin/workbench  NICE=19 (leave idle cores to the trainings only)  WORK=work_dirs/quality
set -euo pipefail
cd "$(dirname "$0")/../.."
WB=${WB:-build/bin/workbench}
WORK=${WORK:-work_dirs/quality}
NICE=${NICE:-0}
test -d ../shared/datasets/bccd || { echo "bccd.sh: ../shared/datasets/bccd is missing (see ../shared/README.md)"; exit 77; }
test -x "$WB" || { echo "bccd.sh: $WB is not built (bash scripts/setup.sh)"; exit 1; }
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(retinanet_r18_fpn_bccd faster_rcnn_r18_fpn_bccd cascade_rcnn_r18_fpn_bccd
                                  fcos_r18_fpn_bccd retinanet_r18_pafpn_bccd yolov5_n_bccd)

# The last validation line of log.json: bbox mAP, mAP@0.5, mAP@0.75.
last_val() {
    python3 - "$1" <<'PY'
import json, sys
val = [r for r in map(json.loads, open(sys.argv[1])) if r.get("mode") == "val" and "bbox_mAP" in r]
if not val:
    sys.exit(f"{sys.argv[1]}: no validation with bbox_mAP yet")
r = val[-1]
print(f'{r["bbox_mAP"]:.4f} | {r["bbox_mAP_50"]:.3f} | {r["bbox_mAP_75"]:.3f} | epoch {r.get("epoch", "?")}')
PY
}

rows=()
for name in "${names[@]}"; do
    conf=$(ls configs/*/"$name".conf 2>/dev/null | head -1)
    [ -n "$conf" ] || { echo "bccd.sh: no configs/*/$name.conf"; exit 2; }
    dir=$WORK/$name
    mkdir -p "$dir"
    resume=()
    [ -f "$dir/latest.safetensors" ] && resume=(--resume)
    echo "== $name: training ($conf, $dir${resume:+, resumed})"
    start=$(date +%s)
    OMP_WAIT_POLICY=PASSIVE nice -n "$NICE" "$WB" run "$conf" --work-dir "$dir" "${resume[@]}"
    minutes=$(( ($(date +%s) - start + 59) / 60 ))
    echo "== $name: VOC mAP@0.5 of the last checkpoint"
    voc=$(OMP_WAIT_POLICY=PASSIVE nice -n "$NICE" "$WB" eval "$conf" "$dir/latest.safetensors" \
          --set 'evaluation.metric="mAP"' | awk '$1 == "mAP:" {print $2}' | tail -1)
    rows+=("| $name | $(last_val "$dir/log.json") | ${voc:-?} | ${minutes} min${resume:+ (resumed)} |")
done
echo
echo "| config | bbox mAP | mAP@0.5 | mAP@0.75 | last validation | VOC mAP@0.5 | trained in this call |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
