#!/usr/bin/env bash
# workbench convert-dataset round trips on the shared datasets (skipped, 77, without ../shared):
#   BCCD (VOC)    voc -> coco -> voc -> yolo -> coco, every leg against the first COCO file
#   coco128 COCO  coco -> voc -> coco and coco -> yolo -> coco against the instances JSON
#   coco128 YOLO  yolo -> voc -> yolo against the original label files
# Same image list and sizes, same class names per box, same boxes within 1e-6 pixels (1e-9 for
# normalised YOLO values), crowd kept through VOC's difficult (coco128 has 10 crowd boxes). Plus --help and usage errors.
#   convert_dataset.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
data="$src/../shared/datasets"
if [ ! -d "$data/bccd" ] || [ ! -d "$data/coco128" ]; then
  echo "skipped: the shared datasets are not at $data"
  exit 77
fi
rm -rf "$out" && mkdir -p "$out"
cd "$out"

"$wb" convert-dataset --help | grep -q "Usage: workbench convert-dataset"
set +e
"$wb" convert-dataset --from xml --to coco a b 2>err.txt; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "the formats are coco, voc and yolo" err.txt
set +e
"$wb" convert-dataset --from voc --to coco /nonexistent x.json 2>err.txt; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "error: convert-dataset:" err.txt

# BCCD: VOC
"$wb" convert-dataset --from voc --to coco "$data/bccd" bccd.json
"$wb" convert-dataset --from coco --to voc bccd.json bccd_voc --images "$data/bccd/JPEGImages"
"$wb" convert-dataset --from voc --to coco bccd_voc bccd_voc.json
"$wb" convert-dataset --from voc --to yolo bccd_voc bccd_yolo
"$wb" convert-dataset --from yolo --to coco bccd_yolo/data.yaml bccd_yolo.json

# coco128 from its COCO JSON, and from its YOLO labels
inst="$data/coco128/annotations/instances_train2017.json"
"$wb" convert-dataset --from coco --to voc "$inst" c128_voc
"$wb" convert-dataset --from voc --to coco c128_voc c128_voc.json
"$wb" convert-dataset --from coco --to yolo "$inst" c128_yolo 2>warn.txt
grep -q "warning: YOLO labels have no ignore flag: 10 crowd / difficult boxes written as plain boxes" warn.txt
"$wb" convert-dataset --from yolo --to coco c128_yolo/data.yaml c128_yolo.json
"$wb" convert-dataset --from yolo --to voc "$data/coco128/data.yaml" c128_from_yolo_voc
"$wb" convert-dataset --from voc --to yolo c128_from_yolo_voc c128_back_yolo

/usr/bin/python3 - "$data" <<'PY'
import json, os, sys

data = sys.argv[1]


def coco(path):
    """{file name: (w, h, sorted [(class name, x1, y1, x2, y2, crowd)])} of a COCO file."""
    d = json.load(open(path))
    names = {c["id"]: c["name"] for c in d["categories"]}
    imgs = {i["id"]: (os.path.basename(i["file_name"]), i["width"], i["height"], []) for i in d["images"]}
    for a in d["annotations"]:
        x, y, w, h = a["bbox"]
        imgs[a["image_id"]][3].append((names[a["category_id"]], x, y, x + w, y + h, bool(a.get("iscrowd", 0))))
    return {f: (w, h, sorted(b)) for f, w, h, b in imgs.values()}


def same(a, b, what, crowd=True, tol=1e-6):
    assert sorted(a) == sorted(b), f"{what}: image lists differ ({len(a)} vs {len(b)})"
    boxes = 0
    for f in a:
        wa, ha, ba = a[f]
        wb_, hb, bb = b[f]
        assert (wa, ha) == (wb_, hb), f"{what}: {f} is {wa}x{ha} vs {wb_}x{hb}"
        assert len(ba) == len(bb), f"{what}: {f} has {len(ba)} vs {len(bb)} boxes"
        key = (lambda t: t) if crowd else (lambda t: t[:5])
        order = lambda t: (t[0],) + tuple(round(v, 3) for v in t[1:5])  # print precision cannot reorder
        for x, y in zip(sorted(map(key, ba), key=order), sorted(map(key, bb), key=order)):
            assert x[0] == y[0] and (not crowd or x[5] == y[5]), f"{what}: {f}: {x} vs {y}"
            assert max(abs(p - q) for p, q in zip(x[1:5], y[1:5])) <= tol, f"{what}: {f}: {x} vs {y}"
            boxes += 1
    print(f"{what}: {len(a)} images, {boxes} boxes equal")


bccd = coco("bccd.json")
assert len(bccd) == 292 and sum(len(v[2]) for v in bccd.values()) == 3943
same(bccd, coco("bccd_voc.json"), "bccd voc -> coco -> voc -> coco")
same(bccd, coco("bccd_yolo.json"), "bccd voc -> coco -> voc -> yolo -> coco", crowd=False)
inst = coco(os.path.join(data, "coco128/annotations/instances_train2017.json"))
assert sum(b[5] for v in inst.values() for b in v[2]) == 10, "coco128's 10 crowd boxes test the flag"
same(inst, coco("c128_voc.json"), "coco128 coco -> voc -> coco")
same(inst, coco("c128_yolo.json"), "coco128 coco -> yolo -> coco", crowd=False)
assert json.load(open("c128_yolo.json"))["categories"][0]["name"] == "person"

# YOLO labels back as they were, value by value (normalised: 1e-9)
src = os.path.join(data, "coco128/labels/train2017")
back = "c128_back_yolo/labels/train"
n = 0
images = {os.path.splitext(f)[0] for f in os.listdir(os.path.join(data, "coco128/images/train2017"))}
for name in sorted(f for f in os.listdir(src) if os.path.splitext(f)[0] in images):  # one has no image
    a = [list(map(float, l.split())) for l in open(os.path.join(src, name)) if l.strip()]
    b = [list(map(float, l.split())) for l in open(os.path.join(back, name)) if l.strip()]
    assert len(a) == len(b), f"{name}: {len(a)} vs {len(b)} lines"
    order = lambda t: [t[0]] + [round(v, 6) for v in t[1:]]
    for x, y in zip(sorted(a, key=order), sorted(b, key=order)):
        assert x[0] == y[0] and max(abs(p - q) for p, q in zip(x[1:], y[1:])) <= 1e-9, f"{name}: {x} vs {y}"
        n += 1
print(f"coco128 yolo -> voc -> yolo: {len(images)} images' label files, {n} lines equal")
PY
echo "convert-dataset round trips: ok"
