#!/usr/bin/env bash
# workbench confusion-matrix both ways on the generated shapes (tiny detector trained in about 3 s, one thread):
# EXP CKPT over the val split, and --gt (convert-dataset's COCO conversion of the VOC split) with --results
# (`eval --out`) give the same CSV; columns of true classes sum to 1; the picture is YOLOv5's 1800 x 1350;
# with the yolov5 package (WB_YOLOV5_VENV or ~/.cache/workbench/yolov5-venv) the counts behind the CSV equal
# YOLOv5's own ConfusionMatrix fed as val.py feeds it (crowd / difficult labels left out, as pycocotools).
#   confusion_matrix.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$out"
/usr/bin/python3 "$src/tests/e2e/make_shapes_voc.py" shapes
norm='{ type = "normalize"; mean = [127.5, 127.5, 127.5]; std = [64.0, 64.0, 64.0]; to_rgb = true; }'
cat > shapes.conf <<EOF2
@include "$src/configs/_base_/default_runtime.conf"
work_dir = "$out/work";
model = {
  backbone = { type = "tiny_cnn"; widths = [16, 32, 64]; };
  head = { type = "center_head"; num_classes = 3; feat_channels = 64; };
};
data = {
  data_root = "$out/shapes";
  batch_size = 8;
  train = {
    dataset = { type = "voc"; split = "ImageSets/Main/train.txt"; classes = ["square", "disc", "triangle"]; };
    pipeline = ( { type = "random_flip"; prob = 0.5; }, $norm );
  };
  val = {
    dataset = { type = "voc"; split = "ImageSets/Main/val.txt"; classes = ["square", "disc", "triangle"]; };
    pipeline = ( $norm );
  };
};
optimizer = { type = "sgd"; lr = 0.02; momentum = 0.9; weight_decay = 0.0001; grad_clip = 10.0; };
schedule = { by_epoch = true; max_epochs = 12; policy = "step"; milestones = [9, 11]; gamma = 0.1;
             warmup = "linear"; warmup_iters = 20; warmup_ratio = 0.1; };
evaluation = { interval = 0; };
checkpoint = { interval = 12; };
EOF2
"$wb" confusion-matrix --help | grep -q "Usage: workbench confusion-matrix EXP.conf CHECKPOINT"
"$wb" --threads 1 run shapes.conf > run.txt 2>&1 || { cat run.txt; exit 1; }
ckpt=work/epoch_12.safetensors
"$wb" --threads 1 confusion-matrix shapes.conf $ckpt --out from_ckpt > cm.txt 2>&1 || { cat cm.txt; exit 1; }
grep -q "confusion matrix of 3 classes + background: from_ckpt/confusion_matrix.png" cm.txt
"$wb" --threads 1 eval shapes.conf $ckpt --out results.json > eval.txt 2>&1 || { cat eval.txt; exit 1; }
"$wb" convert-dataset --from voc --to coco shapes gt.json --split val --classes square,disc,triangle
"$wb" confusion-matrix --gt gt.json --results results.json --out from_results
cmp from_ckpt/confusion_matrix.csv from_results/confusion_matrix.csv
set +e
"$wb" confusion-matrix --gt gt.json 2> err.txt; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "both --gt and --results are required" err.txt
venv=${WB_YOLOV5_VENV:-$HOME/.cache/workbench/yolov5-venv}
py=/usr/bin/python3
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import yolov5" 2>/dev/null && py="$venv/bin/python"
"$py" - <<'PY'
import csv, json
import numpy as np
from PIL import Image

rows = list(csv.reader(open("from_results/confusion_matrix.csv")))
assert rows[0] == ["predicted \\ true", "square", "disc", "triangle", "background"], rows[0]
assert [r[0] for r in rows[1:]] == ["square", "disc", "triangle", "background"]
m = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
sums = m.sum(0)
assert all(abs(s - 1) < 1e-5 or s == 0 for s in sums[:3]), sums
assert Image.open("from_ckpt/confusion_matrix.png").size == (1800, 1350)
try:
    import torch
    from yolov5.utils.metrics import ConfusionMatrix
except ImportError:
    print("confusion matrix: structure checked; the yolov5 package is absent, so no count comparison")
    raise SystemExit(0)
gt, res = json.load(open("gt.json")), json.load(open("results.json"))
label = {c["id"]: i for i, c in enumerate(gt["categories"])}
cm = ConfusionMatrix(nc=3)
for im in gt["images"]:  # val.py: per image, labels without crowd, detections x1 y1 x2 y2 conf cls
    lab = [[label[a["category_id"]], a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
            a["bbox"][1] + a["bbox"][3]] for a in gt["annotations"] if a["image_id"] == im["id"] and not a["iscrowd"]]
    det = [[d["bbox"][0], d["bbox"][1], d["bbox"][0] + d["bbox"][2], d["bbox"][1] + d["bbox"][3], d["score"],
            label[d["category_id"]]] for d in res if d["image_id"] == im["id"]]
    labels, pred = torch.tensor(lab).reshape(-1, 5), torch.tensor(det).reshape(-1, 6)
    if len(pred) == 0:
        if len(labels):
            cm.process_batch(None, labels[:, 0])
        continue
    if len(labels):
        cm.process_batch(pred, labels)
ref = cm.matrix / (cm.matrix.sum(0).reshape(1, -1) + 1e-9)
assert np.abs(ref - m).max() < 1e-6, (ref, m)
print(f"confusion matrix equals YOLOv5's ConfusionMatrix ({int(cm.matrix.sum())} counts)")
PY
echo "confusion-matrix: ok"
