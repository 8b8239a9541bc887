#!/usr/bin/env bash
# Hostile annotation files through the command line, every input generated here:
#  - eval --gt of a directory and --results of a FIFO fail at once with the path and why
#  - COCO that is 1M arrays deep, has an id beyond 2^53 or a repeated "images" key gets the same refusal
#    from eval, check and training (run), naming file, entry and line
#  - check of a coco dataset whose ann_file is a FIFO, and of a yolo dataset whose label file is one
# Every file is written under SCRATCH_DIR; the experiments' work dirs are there too.
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$out"
touch "$out/.start"
tiny=$src/configs/tiny/center_tiny_synthetic.conf
gt=$src/tests/eval/data/handmade_gt.json res=$src/tests/eval/data/handmade_results.json

source "$(dirname "${BASH_SOURCE[0]}")/expect_fail.sh"

# coco_experiment NAME ANN_FILE: $out/NAME.conf trains the tiny model on a coco dataset (work dir in $out).
coco_experiment() {
  printf '@include "%s"\nwork_dir = "%s/work_%s";\n' "$tiny" "$out" "$1" >"$out/$1.conf"
  printf 'data = { train = { dataset = { type = "coco"; ann_file = "%s"; img_dir = "%s/img"; }; }; };\n' \
    "$2" "$out" >>"$out/$1.conf"
}

echo "== eval: a directory and a FIFO where a JSON file is expected"
mkfifo "$out/results.fifo"
expect_fail 1 "$out: is a directory; expected a JSON file" eval_dir.txt -- "$wb" eval --gt "$out" --results "$res"
expect_fail 1 "$out/results.fifo: is a FIFO (named pipe); expected a JSON file" eval_fifo.txt -- \
  "$wb" eval --gt "$gt" --results "$out/results.fifo"

echo "== COCO files every reader refuses alike (eval, check, run)"
mkdir -p "$out/img"
/usr/bin/python3 - "$out" <<'PY'
import sys
out = sys.argv[1]
img = '"images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 48}]'
cat = '"categories": [{"id": 1, "name": "thing"}]'
ann = '"annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 4, 10, 10], "area": 100, "iscrowd": 0}]'
open(f"{out}/deep.json", "w").write("{" + img + ", " + cat + ", " + ann + ', "info": ' + "[" * 1000000 + "]" * 1000000 + "}")
open(f"{out}/big_id.json", "w").write("{" + img.replace('"id": 1,', '"id": 9007199254740993,') + ", " + cat + ", " + ann + "}")
open(f"{out}/twice.json", "w").write("{" + img + ", " + cat + ", " + ann + ",\n" + img + "}")
PY
for case in "deep|nesting deeper than 64 levels (not a COCO file?) at line 1" \
            "big_id|images[0].id: 9007199254740993 is not an integer id (a whole number of at most 2^53) at line 1" \
            "twice|images: repeated top-level key \"images\"; a COCO file has one at line 2"; do
  name=${case%%|*} fragment=${case#*|}
  expect_fail 1 "$out/$name.json: $fragment" "eval_$name.txt" -- "$wb" eval --gt "$out/$name.json" --results "$res"
  coco_experiment "$name" "$out/$name.json"
  expect_fail 1 "$fragment" "check_$name.txt" -- "$wb" check "$out/$name.conf" --split train
  expect_fail 1 "$out/$name.json: $fragment" "run_$name.txt" -- "$wb" run "$out/$name.conf"
done

echo "== check: a FIFO as the COCO ann_file and as a YOLO label file"
mkfifo "$out/instances.fifo"
coco_experiment fifo "$out/instances.fifo"
expect_fail 1 "cannot read the file (check \`ann_file\`): $out/instances.fifo: is a FIFO (named pipe)" check_fifo.txt -- \
  "$wb" check "$out/fifo.conf" --split train
mkdir -p "$out/yolo/images" "$out/yolo/labels"
/usr/bin/python3 -c "from PIL import Image; Image.new('RGB', (32, 24)).save('$out/yolo/images/a.png')"
mkfifo "$out/yolo/labels/a.txt"
printf '@include "%s"\nwork_dir = "%s/work_yolo";\n' "$tiny" "$out" >"$out/yolo.conf"
printf 'data = { train = { dataset = { type = "yolo"; images = "%s/yolo/images"; names = ["a", "b", "c"]; }; }; };\n' \
  "$out" >>"$out/yolo.conf"
expect_fail 1 "cannot read the label file: $out/yolo/labels/a.txt: is a FIFO (named pipe)" check_yolo_fifo.txt -- \
  "$wb" check "$out/yolo.conf" --split train
expect_fail 1 "yolo: label file $out/yolo/labels/a.txt: is a FIFO (named pipe); expected a regular file" \
  run_yolo_fifo.txt -- "$wb" run "$out/yolo.conf"

# Nothing was written beside the inputs: every work dir named above lies in the scratch dir.
changed=$(find "$src/configs" "$src/tests/eval/data" -newer "$out/.start")
[ -z "$changed" ] || { echo "written outside the scratch dir: $changed"; exit 1; }
echo "nothing changed in configs/ or tests/eval/data/"
echo "hostile annotation files: all refused alike, nothing hung"
