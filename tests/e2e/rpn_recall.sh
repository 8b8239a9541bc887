#!/usr/bin/env bash
# RPN alone as a proposal network (configs/rpn/rpn_r18_fpn_bccd.conf made tiny: narrow, 160x128 inputs, a few
# iterations on 8 BCCD images) whose validation logs AR@100/300/1000, then `workbench eval` with
# evaluation.metric = "proposal": its AR@100/300/1000 line equal to the logged ones, and the same numbers recomputed from the proposals it wrote (--out) and the images' VOC XML with
# mmdetection's eval_recalls definition (tests/parity/recall_ref.py). Exit 77 (skipped) without ../shared.
set -euo pipefail
wb=$1 src=$2 out=$3
shared="$src/../shared/datasets/bccd"
[ -d "$shared" ] || { echo "SKIPPED: $shared is missing (../shared must be beside the checkout)"; exit 77; }
rm -rf "$out" && mkdir -p "$out"
head -8 "$shared/ImageSets/Main/train.txt" > "$out/eight.txt"
pipeline='( { type = "resize"; scale = [160, 128]; keep_ratio = true; },
    { type = "normalize"; mean = [123.675, 116.28, 103.53]; std = [58.395, 57.12, 57.375]; to_rgb = true; },
    { type = "pad"; size_divisor = 32; } )'
cat > "$out/rpn.conf" <<EOF2
@include "$src/configs/rpn/rpn_r18_fpn_bccd.conf"
work_dir = "$out/work";
model = { neck = { out_channels = 16; };
          head = { feat_channels = 16; anchor_scales = [2.0]; }; };
data = { data_root = "$shared"; batch_size = 4;
         train = { dataset = { split = "$out/eight.txt"; }; pipeline = $pipeline; };
         val = { dataset = { split = "$out/eight.txt"; }; pipeline = $pipeline; }; };
optimizer = { type = "adamw"; lr = 0.001; weight_decay = 0.0001; };
schedule = { by_epoch = false; max_iters = 6; warmup = "none"; milestones = [5]; };
checkpoint = { interval = 6; };
evaluation = { interval = 6; };
EOF2
"$wb" run "$out/rpn.conf" >"$out/run.txt" 2>&1 || { cat "$out/run.txt"; exit 1; }
ckpt=$(ls "$out"/work/iter_6*.safetensors | head -1)
"$wb" eval "$out/rpn.conf" "$ckpt" --out "$out/proposals.json" >"$out/eval.txt" 2>&1 || { cat "$out/eval.txt"; exit 1; }
cat "$out/eval.txt"
/usr/bin/python3 - "$src/tests/parity" "$out/eval.txt" "$out/proposals.json" "$shared" "$out/eight.txt" \
  "$out/work/log.json" <<'PY'
import json, re, sys, xml.etree.ElementTree as ET
import numpy as np
sys.path.insert(0, sys.argv[1])
import recall_ref
text = open(sys.argv[2]).read()
m = re.search(r"AR@100: ([0-9.]+), AR@300: ([0-9.]+), AR@1000: ([0-9.]+)", text)
assert m, "workbench eval printed no AR@100/300/1000 line"
ours = [float(v) for v in m.groups()]
vals = [json.loads(l) for l in open(sys.argv[6]) if '"val"' in l]
assert vals, "no validation ran during training"
logged = [vals[-1][f"AR@{n}"] for n in (100, 300, 1000)]
assert all(abs(a - b) <= 5e-5 for a, b in zip(ours, logged)), f"validation logged {logged}, eval printed {ours}"
assert re.search(r"^AR@1000: [0-9.]+ \(8 images, [0-9]+ detections\)", text, re.M), "no headline AR@1000 line"
classes = ["RBC", "WBC", "Platelets"]
ids = open(sys.argv[5]).read().split()
gts = []
for name in ids:
    boxes = []
    for obj in ET.parse(f"{sys.argv[4]}/Annotations/{name}.xml").findall("object"):
        d = obj.find("difficult")
        if obj.find("name").text not in classes or (d is not None and int(d.text)):
            continue
        b = obj.find("bndbox")
        boxes.append([float(b.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax")])
    gts.append(np.array(boxes, np.float32).reshape(-1, 4))
props = [[] for _ in ids]
for r in json.load(open(sys.argv[3])):
    x, y, w, h = r["bbox"]
    props[r["image_id"]].append([x, y, x + w, y + h, r["score"]])
props = [np.array(p, np.float64).reshape(-1, 5) for p in props]
ref = recall_ref.eval_recalls(gts, props, [100, 300, 1000]).mean(axis=1)
print(f"workbench AR@100/300/1000 {ours}; recomputed from proposals.json and the XML {[round(v, 4) for v in ref]}")
assert sum(len(p) for p in props) > 0, "no proposals"
assert all(abs(a - b) <= 5e-5 for a, b in zip(ours, ref)), "recall differs from mmdetection's definition"
assert ours[0] <= ours[1] <= ours[2] and ours[2] > 0, "AR must grow with the proposals and find something"
PY
echo "1 passed, 0 failed"
