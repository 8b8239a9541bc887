#!/usr/bin/env bash
# Hostile configs, command lines and work dirs, every input generated here:
#  - @include of /dev/zero, a directory or a FIFO, the experiment itself a FIFO or a directory
#  - an include bomb (7 files, each including the next 32 times) or 20000 settings end at once with a message
#  - a NUL byte or an unterminated /* comment is reported, not silently the end of the file
#  - integers beyond 32 bits keep their value (range errors name the value as written), beyond 64 bits
#    are refused; a --set list index of 2^32 does not edit element 0; a list longer than its step takes is refused
#  - more than 16 milestones and threads = 2048 are refused with the limit and its reason
#  - a second run in a locked work dir fails naming the first one's pid; an experiment named
#    config.conf run with work_dir = "." is not overwritten; /, $HOME and over-long work dirs are refused
#  - a FIFO as the checkpoint of eval fails at once
#  - check --fix-to refuses a folder that is, lies inside or holds the dataset; the originals stay
# Every file is written under SCRATCH_DIR.
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$src"
tiny=$src/configs/tiny/center_tiny_synthetic.conf
quick=(--set schedule.by_epoch=false --set evaluation.interval=0 --set checkpoint.interval=0)

source "$(dirname "${BASH_SOURCE[0]}")/expect_fail.sh"

# experiment NAME LINES...: $out/NAME.conf = the tiny experiment, then the given lines.
experiment() {
  local f=$out/$1.conf; shift
  printf '@include "%s"\n' "$tiny" >"$f"
  for l in "$@"; do printf '%s\n' "$l" >>"$f"; done
}

echo "== files that are not regular files"
printf '@include "/dev/zero"\n' >"$out/zero.conf"
expect_fail 2 "zero.conf:1: error: cannot read included file '/dev/zero': is a device; expected a regular file" \
  "$out/zero.txt" -- "$wb" validate "$out/zero.conf"
mkdir -p "$out/a_dir"
printf '@include "a_dir"\n' >"$out/dir.conf"
expect_fail 2 "dir.conf:1: error: cannot read included file '$out/a_dir': is a directory" "$out/dir.txt" -- \
  "$wb" validate "$out/dir.conf"
mkfifo "$out/fifo"
printf '@include "fifo"\n' >"$out/fifo.conf"
expect_fail 2 "fifo.conf:1: error: cannot read included file '$out/fifo': is a FIFO (named pipe)" \
  "$out/fifo_inc.txt" -- "$wb" validate "$out/fifo.conf"
expect_fail 2 "$out/fifo: error: cannot read the config file: is a FIFO (named pipe)" "$out/fifo_exp.txt" -- \
  "$wb" validate "$out/fifo"
expect_fail 2 "$out/a_dir: error: cannot read the config file: is a directory" "$out/dir_exp.txt" -- \
  "$wb" validate "$out/a_dir"

echo "== an include bomb: 32^6 inclusions if followed"
mkdir -p "$out/bomb"
for k in 0 1 2 3 4 5; do
  for _ in $(seq 32); do printf '@include "b%d.conf"\n' $((k + 1)); done >"$out/bomb/b$k.conf"
  printf 'k%d = %d;\n' "$k" "$k" >>"$out/bomb/b$k.conf"
done
echo 'seed = 1;' >"$out/bomb/b6.conf"
expect_fail 2 "error: the experiment reads more than 256 files or 64 MiB with its @include bases" \
  "$out/bomb.txt" -- "$wb" validate "$out/bomb/b0.conf"

seq 0 20000 | sed 's/.*/k& = &;/' >"$out/many.conf"
expect_fail 2 "many.conf:10001: error: more than 10000 settings in the experiment with its bases" "$out/many.txt" -- \
  "$wb" validate "$out/many.conf"

echo "== what libconfig would silently stop at"
experiment nul 'seed = 1;'
printf 'schedule = { max_epochs = 1; };\n\0schedule = { max_epochs = 2; };\n' >>"$out/nul.conf"
expect_fail 2 "nul.conf:4: error: a NUL byte: a config is text" "$out/nul.txt" -- "$wb" validate "$out/nul.conf"
experiment comment 'seed = 1; /* the rest of the file' 'schedule = { max_epochs = 1; };'
expect_fail 2 "comment.conf:2: error: unterminated /* comment: everything after it would be ignored" \
  "$out/comment.txt" -- "$wb" validate "$out/comment.conf"

echo "== integers as written"
experiment epochs32 'schedule = { max_epochs = 4294967298; };'
expect_fail 2 "epochs32.conf:2: error: schedule.max_epochs = 4294967298 is out of range [0, 1000000000]" \
  "$out/epochs32.txt" -- "$wb" validate "$out/epochs32.conf"
experiment epochs63 'schedule = { max_epochs = 9223372036854775807; };'
expect_fail 2 "schedule.max_epochs = 9223372036854775807 is out of range" "$out/epochs63.txt" -- \
  "$wb" validate "$out/epochs63.conf"
experiment epochs64 'schedule = { max_epochs = 99999999999999999999; };'
expect_fail 2 "epochs64.conf:2: error: the integer 99999999999999999999 does not fit in 64 bits" \
  "$out/epochs64.txt" -- "$wb" validate "$out/epochs64.conf"
expect_fail 2 "schedule.milestones[1] = 4294967298 is out of range" "$out/milestone32.txt" -- \
  "$wb" validate "$tiny" --set "schedule.milestones=[1, 4294967298]"
expect_fail 2 "index 4294967296 is past the end of data.train.pipeline (2 elements)" "$out/index.txt" -- \
  "$wb" validate "$tiny" --set data.train.pipeline.4294967296.prob=0.0
expect_fail 2 "index 2 is past the end of data.train.pipeline (2 elements)" "$out/index_end.txt" -- \
  "$wb" validate "$tiny" --set data.train.pipeline.2.prob=0.0
expect_fail 2 "mean and std need 3 values each" "$out/mean4.txt" -- \
  "$wb" validate "$tiny" --set "data.train.pipeline.1.mean=[1.0, 2.0, 3.0, 4.0]"

echo "== limits"
expect_fail 2 "schedule.milestones has 17 elements; at most 16 are supported" "$out/milestones.txt" -- \
  "$wb" validate "$tiny" --set "schedule.milestones=[$(seq -s, 1 17)]"
expect_fail 2 "threads = 2048 is out of range [0, 1024] (CPU threads; " "$out/threads.txt" -- \
  "$wb" validate "$tiny" --set threads=2048
grep -qF "oneDNN aborts with many more than 1024" "$out/threads.txt"
expect_fail 2 "--threads wants an integer from 1 to 1024 (oneDNN's limit), got '2048'" "$out/threads_cli.txt" -- \
  "$wb" --threads 2048 validate "$tiny"

expect_fail 2 "workbench bench: --batch wants an integer from 1 to 4096, got '4294967297'" "$out/bench.txt" -- \
  "$wb" bench "$tiny" --batch 4294967297
expect_fail 2 "workbench gradcheck: --size wants an integer from 1 to 4096, got '1e9'" "$out/gradcheck.txt" -- \
  "$wb" gradcheck center_head --size 1e9

echo "== a work dir held by another run"
"$wb" run "$tiny" "${quick[@]}" --set schedule.max_iters=100000 --work-dir "$out/busy" >"$out/first.txt" 2>&1 &
first=$!
# log.json appears once the stop handlers are in place: a background job of a
# script starts with SIGINT ignored, so an earlier Ctrl-C would be lost.
for _ in $(seq 600); do
  [ -s "$out/busy/.workbench.lock" ] && [ -e "$out/busy/log.json" ] && break
  kill -0 "$first" 2>/dev/null || { cat "$out/first.txt"; exit 1; }
  sleep 0.1
done
expect_fail 1 "work_dir $out/busy is in use by another run (pid $first)" "$out/second.txt" -- \
  "$wb" run "$tiny" "${quick[@]}" --set schedule.max_iters=2 --work-dir "$out/busy"
kill -INT "$first"
wait "$first" || true
test ! -e "$out/busy/iter_2.safetensors" || { echo "the second run wrote into the first one's work dir"; exit 1; }

echo "== never overwrite the input, never / or \$HOME"
mkdir -p "$out/self"
printf '@include "%s"\nwork_dir = ".";\n' "$tiny" >"$out/self/config.conf"
cp "$out/self/config.conf" "$out/self_before.conf"
(cd "$out/self" && expect_fail 2 "the effective config ./config.conf would overwrite config.conf, a file the experiment is read from" \
  "$out/self.txt" -- "$wb" run config.conf "${quick[@]}" --set schedule.max_iters=2)
cmp "$out/self/config.conf" "$out/self_before.conf"
[ "$(ls -A "$out/self")" = "config.conf" ] || { ls -A "$out/self"; echo "files were written beside the experiment"; exit 1; }
expect_fail 2 "work_dir / is the root folder" "$out/root.txt" -- \
  "$wb" run "$tiny" "${quick[@]}" --set schedule.max_iters=2 --work-dir /
mkdir -p "$out/home"
expect_fail 2 "work_dir $out/home/. is your home folder" "$out/home.txt" -- \
  env HOME="$out/home" "$wb" run "$tiny" "${quick[@]}" --set schedule.max_iters=2 --work-dir "$out/home/."
[ -z "$(ls -A "$out/home")" ] || { echo "files were written into \$HOME"; exit 1; }
long=$out/long/$(printf 'd%.0s/' $(seq 2100))
expect_fail 2 "passes the system's limit of 4096 (PATH_MAX); choose a shorter work_dir" "$out/long.txt" -- \
  "$wb" run "$tiny" "${quick[@]}" --set schedule.max_iters=2 --work-dir "$long"
test ! -e "$out/long" || { echo "a truncated tree was left behind"; exit 1; }
expect_fail 2 "a folder name of 300 characters passes the system's limit of 255 (NAME_MAX)" "$out/name.txt" -- \
  "$wb" run "$tiny" "${quick[@]}" --set schedule.max_iters=2 --work-dir "$out/named/$(printf 'n%.0s' $(seq 300))"
test ! -e "$out/named" || { echo "a partial tree was left behind"; exit 1; }

echo "== a FIFO as a checkpoint"
expect_fail 1 "workbench eval: $out/fifo: is a FIFO (named pipe); expected a regular file" "$out/eval_fifo.txt" -- \
  "$wb" eval "$tiny" "$out/fifo"

echo "== check --fix-to over the dataset"
mkdir -p "$out/ds/train/img"
/usr/bin/python3 - "$out/ds/train" <<'PY'
import json, sys
from PIL import Image
root = sys.argv[1]
Image.new("RGB", (64, 48), (90, 120, 30)).save(f"{root}/img/a.png")
json.dump({"images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 48}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [60, 4, 10, 10], "area": 100,
                            "iscrowd": 0}],
           "categories": [{"id": 1, "name": "thing"}]}, open(f"{root}/labels.json", "w"))
PY
sum_before=$(sha256sum "$out/ds/train/labels.json")
experiment coco "data = { data_root = \"$out/ds\"; train = { dataset = { type = \"coco\";" \
  '  ann_file = "train/labels.json"; img_dir = "train/img"; }; }; };'
experiment coco_abs "data = { train = { dataset = { type = \"coco\"; ann_file = \"$out/ds/train/labels.json\";" \
  "  img_dir = \"$out/ds/train/img\"; }; }; };"
expect_fail 2 "--fix-to: $out/ds/train holds $out/ds/train/labels.json (the dataset's ann_file); the cleaned files could overwrite the originals" \
  "$out/fix_same.txt" -- "$wb" check "$out/coco_abs.conf" --split train --fix-to "$out/ds"
expect_fail 2 "--fix-to: $out/ds/train lies inside $out/ds (the dataset's data_root)" "$out/fix_root.txt" -- \
  "$wb" check "$out/coco.conf" --split train --fix-to "$out/ds"
expect_fail 2 "--fix-to: $out/ds/cleaned/train lies inside $out/ds (the dataset's data_root)" "$out/fix_inside.txt" -- \
  "$wb" check "$out/coco.conf" --split train --fix-to "$out/ds/cleaned"
ln -s "$out/ds" "$out/ds_link"
expect_fail 2 "the cleaned files could overwrite the originals" "$out/fix_link.txt" -- \
  "$wb" check "$out/coco.conf" --split train --fix-to "$out/ds_link/nope/.."
[ "$(sha256sum "$out/ds/train/labels.json")" = "$sum_before" ] || { echo "the original annotations changed"; exit 1; }
test ! -e "$out/ds/cleaned" && test ! -e "$out/ds/nope"
expect_fail 1 "cleaned annotations: $out/cleaned/<split>/" "$out/fix_ok.txt" -- \
  "$wb" check "$out/coco.conf" --split train --fix-to "$out/cleaned"
test -f "$out/cleaned/train/labels.json"
[ "$(sha256sum "$out/ds/train/labels.json")" = "$sum_before" ]
echo "hostile configs, command lines and work dirs: all refused as expected"
