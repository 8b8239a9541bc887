#!/usr/bin/env bash
# A VOC-format dataset's results JSON against a COCO conversion of its ground
# truth: `workbench eval --out` writes 1-based category ids (1..K in `classes`
# order) and RESULTS.categories.json; pycocotools, given a COCO conversion made
# here without workbench (ids 1..K, image ids = position in the split file,
# difficult = iscrowd), must reproduce the AP `workbench eval` printed, where the
# old 0-based ids gave a small fraction of it. `workbench infer` on a folder of
# the same images writes COCO results too (image ids = positions in name order,
# here the split's order) that score the same AP. Trains the tiny detector on
# generated shapes first (about 3 s; one thread: OpenMP threads spinning against
# a busy machine's other processes make it 10 times slower).
#   voc_results_coco.sh WORKBENCH SOURCE_DIR SCRATCH_DIR EVAL_PYTHON
# EVAL_PYTHON has pycocotools (the tests/eval interpreter); /usr/bin/python3 draws the images (PIL).
set -euo pipefail
wb=$1 src=$2 out=$3 py=$4
rm -rf "$out" && mkdir -p "$out"
/usr/bin/python3 "$src/tests/e2e/make_shapes_voc.py" "$out/shapes"

norm='{ type = "normalize"; mean = [127.5, 127.5, 127.5]; std = [64.0, 64.0, 64.0]; to_rgb = true; }'
cat > "$out/shapes.conf" <<EOF2
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
"$wb" --threads 1 run "$out/shapes.conf" >"$out/run.txt" 2>&1 || { cat "$out/run.txt"; exit 1; }
"$wb" --threads 1 eval "$out/shapes.conf" "$out/work/epoch_12.safetensors" --out "$out/results.json" >"$out/eval.txt" 2>&1 \
  || { cat "$out/eval.txt"; exit 1; }
grep -E "^bbox_mAP: [0-9.]+ \(32 images" "$out/eval.txt"
mkdir -p "$out/val_images"
for name in $(cat "$out/shapes/ImageSets/Main/val.txt"); do cp "$out/shapes/JPEGImages/$name.jpg" "$out/val_images/"; done
"$wb" --threads 1 infer "$out/shapes.conf" "$out/work/epoch_12.safetensors" "$out/val_images" --out "$out/shown" >"$out/infer.txt" 2>&1 \
  || { cat "$out/infer.txt"; exit 1; }
grep -E "^32 image\(s\) written to $out/shown/ \(0 skipped\); [0-9]+ detections as COCO results in $out/shown/results.json" \
  "$out/infer.txt"
test -f "$out/shown/shapes_064.jpg"
grep -E "^time: 32 images in [0-9.]+ s \([0-9.]+ images/s\): inference [0-9.]+ s \([0-9.]+ images/s\), evaluation [0-9.]+ s$" \
  "$out/eval.txt"
"$py" - "$out" "$wb" <<'PY'
import contextlib, io, json, re, subprocess, sys
import xml.etree.ElementTree as ET
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

out, wb = sys.argv[1], sys.argv[2]
classes = ["square", "disc", "triangle"]

# The COCO conversion of the val split, made without workbench.
gt = {"images": [], "annotations": [], "categories": [{"id": i + 1, "name": c} for i, c in enumerate(classes)]}
names = open(f"{out}/shapes/ImageSets/Main/val.txt").read().split("\n")
for image_id, name in enumerate(names):
    if not name:
        continue
    root = ET.parse(f"{out}/shapes/Annotations/{name}.xml").getroot()
    gt["images"].append({"id": image_id, "file_name": name + ".jpg", "width": int(root.find("size/width").text),
                         "height": int(root.find("size/height").text)})
    for o in root.iter("object"):
        x0, y0, x1, y1 = (float(o.find("bndbox/" + k).text) for k in ("xmin", "ymin", "xmax", "ymax"))
        gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": image_id,
                                  "category_id": classes.index(o.find("name").text) + 1,
                                  "bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0),
                                  "iscrowd": int(o.find("difficult").text)})
json.dump(gt, open(f"{out}/val_coco.json", "w"))

companion = json.load(open(f"{out}/results.categories.json"))
assert companion == {"categories": gt["categories"]}, companion
results = json.load(open(f"{out}/results.json"))
assert {r["category_id"] for r in results} == {1, 2, 3}, sorted({r["category_id"] for r in results})


def pycocotools_ap(dets):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(f"{out}/val_coco.json")
        e = COCOeval(coco, coco.loadRes(dets), "bbox")
        e.evaluate(), e.accumulate(), e.summarize()
    return e.stats[0]


ap = pycocotools_ap(results)
printed = float(re.search(r"^bbox_mAP: ([0-9.]+)", open(f"{out}/eval.txt").read(), re.M).group(1))
ours = json.loads(subprocess.run([wb, "eval", "--gt", f"{out}/val_coco.json", "--results", f"{out}/results.json",
                                  "--json"], check=True, capture_output=True, text=True).stdout)["AP"]
old = pycocotools_ap([dict(r, category_id=r["category_id"] - 1) for r in results])
inferred = json.load(open(f"{out}/shown/results.json"))
infer_ap = pycocotools_ap(inferred)
images = json.load(open(f"{out}/shown/results.images.json"))["images"]
assert [(i["id"], i["file_name"].rsplit("/", 1)[1]) for i in images] == [(i["id"], i["file_name"]) for i in gt["images"]]
assert json.load(open(f"{out}/shown/results.categories.json")) == companion
print(f"AP: workbench eval {printed:.4f}, pycocotools on the COCO conversion {ap:.6f}, "
      f"workbench eval --gt {ours:.6f}; with the old 0-based ids pycocotools gives {old:.4f}; "
      f"infer's results ({len(inferred)} detections, eval's {len(results)}) {infer_ap:.6f}")
assert ap > 0.5, "the tiny detector did not learn the shapes: the comparison would say little"
assert abs(ap - printed) <= 5e-5, "pycocotools on the COCO conversion disagrees with workbench eval"
assert abs(ap - ours) <= 1e-6
assert old < 0.5 * ap, "0-based ids should have scored far lower against 1-based ground truth"
assert len(inferred) == len(results) and abs(infer_ap - ap) <= 1e-6, "infer's results differ from eval's"
PY
echo "1 passed, 0 failed"
