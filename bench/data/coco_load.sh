#!/bin/sh
# Time and peak memory of loading a COCO-sized instances file (~450 MB, like
# instances_train2017.json: 118k images, 860k annotations with polygons)
# with the shared streaming COCO reader (core/formats/coco, as the coco plugin
# uses it), next to Python's json.load.
# Usage: bench/data/coco_load.sh [work dir]   (the file is generated there)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../plugins/datasets/coco"
work=${1:-${TMPDIR:-/tmp}/wb_coco_bench}
mkdir -p "$work"
json="$work/instances_synthetic.json"
if [ ! -f "$json" ]; then
  /usr/bin/python3 - "$json" <<'PY'
import json, random, sys
random.seed(0)
n_img, n_ann = 118287, 860001
cats = [{"supercategory": "thing", "id": i, "name": f"class {i}"} for i in range(1, 91) if i % 9]
with open(sys.argv[1], "w") as f:
    f.write('{"info": {"description": "synthetic"}, "licenses": [], "images": [')
    f.write(",".join(json.dumps({"license": 1, "file_name": f"{i:012d}.jpg", "coco_url": "http://x/" + str(i),
                                 "height": 480, "width": 640, "date_captured": "2013-11-14 17:02:52",
                                 "flickr_url": "http://y/" + str(i), "id": i}) for i in range(n_img)))
    f.write('], "annotations": [')
    for a in range(n_ann):
        poly = [round(random.uniform(0, 640), 2) for _ in range(2 * random.randint(9, 34))]
        rec = {"segmentation": [poly], "area": round(random.uniform(10, 9e4), 4), "iscrowd": int(a % 100 == 0),
               "image_id": random.randrange(n_img), "bbox": [round(random.uniform(0, 600), 2) for _ in range(4)],
               "category_id": random.choice(cats)["id"], "id": a}
        f.write(("," if a else "") + json.dumps(rec))
    f.write('], "categories": ' + json.dumps(cats) + "}")
PY
fi
ls -l "$json"
reader="$here/../../core/formats/coco"
gcc -O2 -I"$src" -I"$reader" -o "$work/coco_load" "$here/coco_load_main.c" "$src/coco_json.c" "$reader/coco_reader.c" \
  "$reader/json_pull.c" "$reader/json_map.c"
echo "== workbench coco pull parser"
/usr/bin/time -f "wall %e s, peak RSS %M KiB" "$work/coco_load" "$json"
echo "== python json.load (reference point)"
/usr/bin/time -f "wall %e s, peak RSS %M KiB" /usr/bin/python3 -c \
  "import json,sys; d=json.load(open(sys.argv[1])); print(len(d['images']), 'images', len(d['annotations']), 'annotations')" "$json"
