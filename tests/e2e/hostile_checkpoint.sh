#!/usr/bin/env bash
# Hostile checkpoints and stop signals against `workbench run`, with files
# generated here from a 2-iteration run of the tiny detector:
#  - best_checkpoint = "../../victim/file" in a resumed checkpoint is refused, the victim stays;
#    symlinks planted at log.json or a checkpoint's temporary name are not written through
#  - trainer state "banana", past max_iters, or inconsistent with the epoch length is refused
#  - overlapping data_offsets, a directory or a FIFO as --resume are refused (no hang)
#  - NaN weights are refused by --resume, load_from and eval unless load_nonfinite = "allow",
#    and never saved; a NaN gradient (fixture neck nan_gradient) stops the run, naming a parameter
#  - SIGTERM / SIGHUP save interrupted.safetensors and exit 128+signal; a stop before the first
#    log line says so instead of "loss 0.0000 -> 0.0000"
set -euo pipefail
wb=$1 src=$2 out=$3 fixtures=$5
exp=configs/tiny/center_tiny_synthetic.conf
rm -rf "$out" && mkdir -p "$out"
cd "$src"
quick=(--set schedule.by_epoch=false --set evaluation.interval=0 --set checkpoint.interval=1)

source "$(dirname "${BASH_SOURCE[0]}")/expect_fail.sh"

# craft SRC DST PYTHON: rewrites a safetensors file; PYTHON edits `header` (a dict) and `data` (a bytearray).
craft() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, struct, sys
src, dst, edit = sys.argv[1:]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header, data = json.loads(raw[8:8 + n]), bytearray(raw[8 + n:])
exec(edit)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + bytes(data))
PY
}

echo "== a 2-iteration run gives the checkpoint every case starts from"
"$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=2 --work-dir "$out/base" >"$out/base.txt" 2>&1 \
  || { cat "$out/base.txt"; exit 1; }
good=$out/base/iter_2.safetensors

echo "== best_checkpoint leading out of the work dir"
mkdir -p "$out/victim" "$out/runs/w"
echo "precious" >"$out/victim/file"
craft "$good" "$out/runs/w/evil.safetensors" \
  'header["__metadata__"].update(best_score="-1.0", best_checkpoint="../../victim/file")'
expect_fail 1 '__metadata__.best_checkpoint = "../../victim/file" is not a name workbench gives a best checkpoint' \
  "$out/evil.txt" -- "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=4 --set evaluation.interval=1 \
  --set 'checkpoint.save_best="bbox_mAP"' --work-dir "$out/runs/w" --resume "$out/runs/w/evil.safetensors"
test "$(cat "$out/victim/file")" = "precious"
echo "the victim file is intact"

echo "== symlinks planted in a work dir lead no write elsewhere"
mkdir -p "$out/planted"
echo "precious" >"$out/victim/log"
echo "precious" >"$out/victim/ckpt"
ln -s "$out/victim/log" "$out/planted/log.json"
ln -s "$out/victim/ckpt" "$out/planted/iter_1.safetensors.tmp"
"$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=1 --work-dir "$out/planted" >"$out/planted.txt" 2>&1 \
  || { cat "$out/planted.txt"; exit 1; }
grep -q "cannot write $out/planted/log.json" "$out/planted.txt" || { cat "$out/planted.txt"; exit 1; }
test "$(cat "$out/victim/log")" = "precious" && test "$(cat "$out/victim/ckpt")" = "precious"
test -f "$out/planted/iter_1.safetensors" && test ! -L "$out/planted/iter_1.safetensors"
echo "log.json not followed (warned), the checkpoint written in the work dir, both victims intact"

echo "== trainer state"
craft "$good" "$out/banana.safetensors" 'header["__metadata__"]["iteration"] = "banana"'
expect_fail 1 '__metadata__.iteration = "banana" is not an integer from 0 to 2^63-1' "$out/banana.txt" -- \
  "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=4 --work-dir "$out/banana" --resume "$out/banana.safetensors"
craft "$good" "$out/far.safetensors" 'header["__metadata__"].update(iteration="9000", epoch="281", optimizer_steps="9000")'
expect_fail 1 'the checkpoint is at iteration 9000 but this experiment trains 4 iterations' "$out/far.txt" -- \
  "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=4 --work-dir "$out/far" --resume "$out/far.safetensors"
craft "$good" "$out/epoch.safetensors" 'header["__metadata__"].update(iteration="40", epoch="0", optimizer_steps="40")'
expect_fail 1 'the checkpoint says epoch 0 at iteration 40, but with 32 iterations per epoch' "$out/epoch.txt" -- \
  "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=64 --work-dir "$out/epoch" --resume "$out/epoch.safetensors"

echo "== the safetensors layout"
craft "$good" "$out/overlap.safetensors" '
names = [k for k in header if k != "__metadata__"]
a, b = sorted(names, key=lambda k: header[k]["data_offsets"][0])[:2]
header[b]["data_offsets"] = [0, header[b]["data_offsets"][1] - header[b]["data_offsets"][0]]'
expect_fail 1 'overlaps the tensor before it; the file is damaged or is not a safetensors file' "$out/overlap.txt" -- \
  "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=4 --work-dir "$out/overlap" --resume "$out/overlap.safetensors"
mkdir -p "$out/dir.safetensors"
expect_fail 1 "$out/dir.safetensors: is a directory; expected a regular file" "$out/dir.txt" -- \
  "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=4 --work-dir "$out/dir" --resume "$out/dir.safetensors"
mkfifo "$out/fifo.safetensors"
expect_fail 1 "$out/fifo.safetensors: is a FIFO (named pipe); expected a regular file" "$out/fifo.txt" -- \
  "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=4 --work-dir "$out/fifo" --resume "$out/fifo.safetensors"

echo "== NaN weights"
craft "$good" "$out/nan.safetensors" '
name = sorted(k for k in header if k != "__metadata__" and "::" not in k)[0]
begin = header[name]["data_offsets"][0]
data[begin:begin + 4] = struct.pack("<f", float("nan"))
print("NaN in", name)'
expect_fail 1 "holds NaN (element 0 of" "$out/nan_resume.txt" -- \
  "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=4 --work-dir "$out/nan" --resume "$out/nan.safetensors"
expect_fail 1 'load_nonfinite = "allow" to load them anyway' "$out/nan_load.txt" -- \
  "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=4 --set "load_from=\"$out/nan.safetensors\"" \
  --work-dir "$out/nan_load"
test ! -e "$out/nan_load/iter_1.safetensors"
expect_fail 1 "tensor 'backbone.stage0.bn0.bias' holds NaN" "$out/nan_eval.txt" -- "$wb" eval "$exp" "$out/nan.safetensors"
# Allowed: loaded, trained on (ReLU swallows the NaN), but never saved.
expect_fail 1 "iter_1.safetensors not saved: parameter 'backbone.stage0.bn0.bias' holds NaN (element 0 of 16), the weights are broken; the last good checkpoint is (none yet)" "$out/nan_allowed.txt" -- \
  "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=4 --set "load_from=\"$out/nan.safetensors\"" \
  --set 'load_nonfinite="allow"' --work-dir "$out/nan_allowed"
grep -q "parameters loaded" "$out/nan_allowed.txt"
test ! -e "$out/nan_allowed/iter_1.safetensors"
echo "refused, and allowed on request without saving NaN weights"

echo "== a NaN gradient (a plugin's broken backward) stops the run before any weight is updated"
expect_fail 1 "the gradient norm is NaN at iteration 1: the first parameter with a NaN or Inf gradient is backbone.stage0.conv0.weight (the weights were not updated" \
  "$out/nan_grad.txt" -- "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=3 \
  --plugin-dir "$fixtures/nan_gradient" --set 'model.neck={type="nan_gradient";}' --work-dir "$out/nan_grad"
grep -q "the last good checkpoint is (none yet)" "$out/nan_grad.txt"
test ! -e "$out/nan_grad/iter_1.safetensors"

# stop_with SIGNAL CODE DIR: a run told to stop once it trains exits CODE and leaves interrupted.safetensors.
stop_with() {
  local sig=$1 code=$2 dir=$out/$3 rc=0
  "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=100000 --set log.interval=100000 \
    --set checkpoint.interval=0 --work-dir "$dir" >"$dir.txt" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do [ -e "$dir/log.json" ] && break; sleep 0.1; done
  kill -"$sig" "$pid"
  wait "$pid" || rc=$?
  if [ "$rc" != "$code" ] || [ ! -f "$dir/interrupted.safetensors" ]; then
    cat "$dir.txt"; echo "SIG$sig: expected exit $code and interrupted.safetensors, got exit $rc"; exit 1
  fi
  grep -q "with no log line in this run: no loss to report" "$dir.txt" || { cat "$dir.txt"; exit 1; }
  if grep -q "loss 0.0000 -> 0.0000" "$dir.txt"; then cat "$dir.txt"; exit 1; fi
  grep -q "interrupted: saving a checkpoint at iteration [0-9]* (SIG$sig)" "$dir.txt" || { cat "$dir.txt"; exit 1; }
  echo "SIG$sig: exit $rc, $(grep -o 'interrupted: saving a checkpoint at iteration [0-9]* (SIG[A-Z]*)' "$dir.txt")"
}

echo "== stop signals"
stop_with TERM 143 term
stop_with HUP 129 hup
stopped_at=$(grep -o 'saving a checkpoint at iteration [0-9]*' "$out/term.txt" | grep -o '[0-9]*$')
expect_fail 0 "resumed from $out/term/interrupted.safetensors at iteration $stopped_at" "$out/term_resumed.txt" -- \
  "$wb" run "$exp" "${quick[@]}" --set schedule.max_iters=$((stopped_at + 1)) --work-dir "$out/term" \
  --resume "$out/term/interrupted.safetensors"
echo "all hostile checkpoint cases passed"
