#!/usr/bin/env bash
# workbench dataset-stats on the generated VOC shapes (every 7th object difficult): every number of the table
# recomputed here from the XML files (images, empty images, boxes per class, difficult boxes, width / height
# quartiles by nearest rank, COCO area ranges, aspect bins), labels.jpg 1600 x 1600, usage errors.
#   dataset_stats.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$out"
/usr/bin/python3 "$src/tests/e2e/make_shapes_voc.py" shapes
cat > data.conf <<EOF2
data = {
  data_root = "$out/shapes";
  batch_size = 4;
  train = {
    dataset = { type = "voc"; split = "ImageSets/Main/train.txt"; classes = ["square", "disc", "triangle"]; };
    pipeline = ( { type = "normalize"; } );
  };
};
EOF2
"$wb" dataset-stats --help | grep -q "Usage: workbench dataset-stats"
"$wb" dataset-stats data.conf --out stats > table.txt
cat table.txt
set +e
"$wb" dataset-stats data.conf --split val 2> err.txt; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "the experiment has no data.val section" err.txt
/usr/bin/python3 - <<'PY'
import re
import xml.etree.ElementTree as ET
from PIL import Image

ids = open("shapes/ImageSets/Main/train.txt").read().split()
classes = ["square", "disc", "triangle"]
boxes, empty = [], 0
for i in ids:
    objs = ET.parse(f"shapes/Annotations/{i}.xml").getroot().findall("object")
    empty += not objs
    for o in objs:
        x0, y0, x1, y1 = (float(o.find("bndbox/" + k).text) for k in ("xmin", "ymin", "xmax", "ymax"))
        boxes.append((o.find("name").text, x1 - x0, y1 - y0, int(o.find("difficult").text)))
t = open("table.txt").read()
head = f"data.train: {len(ids)} images, {empty} without objects, {len(boxes)} boxes " \
       f"({sum(b[3] for b in boxes)} crowd / difficult), 3 classes"
assert head in t, (head, t)
for c in classes:
    n = sum(b[0] == c for b in boxes)
    assert re.search(rf"^  {c} +{n} +{100 * n / len(boxes):.1f}%$", t, re.M), c
for k, col in (("width", 1), ("height", 2)):
    v = sorted(b[col] for b in boxes)
    n = len(v)
    want = [v[0], v[(n - 1) // 4], v[(n - 1) // 2], v[3 * (n - 1) // 4], v[-1], sum(v) / n]
    got = [float(x) for x in re.search(rf"^  {k} +(.*)$", t, re.M).group(1).split()]
    assert all(abs(a - b) < 0.051 for a, b in zip(got, want)), (k, got, want)
areas = [b[1] * b[2] for b in boxes]
small, medium = sum(a < 32 * 32 for a in areas), sum(32 * 32 <= a < 96 * 96 for a in areas)
assert f"small < 32^2: {small} " in t and f"medium < 96^2: {medium} " in t
bins = [0] * 6
for b in boxes:
    r = b[1] / b[2]
    bins[0 if r < 0.25 else 1 if r < 0.5 else 2 if r < 1 else 3 if r < 2 else 4 if r < 4 else 5] += 1
assert f"< 1/4: {bins[0]}  1/4-1/2: {bins[1]}  1/2-1: {bins[2]}  1-2: {bins[3]}  2-4: {bins[4]}  >= 4: {bins[5]}" in t
assert Image.open("stats/labels.jpg").size == (1600, 1600)
print(f"dataset-stats: {len(ids)} images, {len(boxes)} boxes, every number equal")
PY
echo "dataset-stats: ok"
