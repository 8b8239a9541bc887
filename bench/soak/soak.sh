#!/usr/bin/env bash
# Soak: kill -9, SIGTERM and a full disk at random moments of `workbench run`
# (the tiny detector, 96 iterations, a checkpoint every 4), in turn, until the
# time is up. After each stop: every checkpoint left in the work dir must load
# (reader + trainer state, bench/soak/ckpt_check.c), and --resume must finish
# with a final checkpoint byte-identical to that of an uninterrupted run.
#   usage: bench/soak/soak.sh BUILD_DIR [SECONDS (default 1800)] [OUT_DIR (default /tmp/wb-soak)]
# BUILD_DIR needs bin/workbench, bench/soak_ckpt_check and the tiny plugins
# (wb_backbone_tiny_cnn, wb_head_center_head, wb_dataset_synthetic, wb_loss_basic).
# The disk-full case mounts a small tmpfs (root only); without one it is skipped, saying so.
set -euo pipefail
build=$(cd "$1" && pwd)
seconds=${2:-1800}
out=${3:-/tmp/wb-soak}
wb=$build/bin/workbench
check=$build/bench/soak_ckpt_check
cd "$(dirname "$0")/../.."
exp=configs/tiny/center_tiny_synthetic.conf
args=(--set schedule.by_epoch=false --set schedule.max_iters=96 --set checkpoint.interval=4 --set checkpoint.keep=0
      --set evaluation.interval=0 --set log.interval=8)
final=iter_96.safetensors
rm -rf "$out" && mkdir -p "$out"

start=$(date +%s)
"$wb" run "$exp" "${args[@]}" --work-dir "$out/reference" >"$out/reference.txt" 2>&1 \
  || { cat "$out/reference.txt"; exit 1; }
full_ms=$(( ($(date +%s) - start) * 1000 ))
echo "reference run: ${full_ms} ms"

can_mount=0
mkdir -p "$out/probe"
if mount -t tmpfs -o size=1m tmpfs "$out/probe" 2>/dev/null; then
  umount "$out/probe"
  can_mount=1
else
  echo "disk-full cases skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)"
fi

declare -A stops=([kill9]=0 [term]=0 [diskfull]=0)
cycles=0 finished_early=0 checkpoints=0 loaded=0 resumed=0 identical=0 failures=0

fail() { echo "FAIL cycle $cycles: $*"; failures=$((failures + 1)); }

# Every checkpoint in $1 loads.
check_dir() {
  local files=() f
  for f in "$1"/*.safetensors; do [ -f "$f" ] && files+=("$f"); done
  [ ${#files[@]} -eq 0 ] && return 0
  checkpoints=$((checkpoints + ${#files[@]}))
  local report
  report=$("$check" "${files[@]}") || true
  loaded=$((loaded + $(grep -c '^loads ' <<<"$report" || true)))
  if grep -q '^FAILED' <<<"$report"; then fail "$(grep '^FAILED' <<<"$report" | head -3)"; fi
}

# Resumes the run in $1 (from latest.safetensors; from scratch if there is none) and compares the end.
resume_and_compare() {
  local dir=$1 resume=()
  [ -e "$dir/latest.safetensors" ] && resume=(--resume)
  if ! "$wb" run "$exp" "${args[@]}" --work-dir "$dir" "${resume[@]}" >"$dir.resume.txt" 2>&1; then
    fail "resume failed: $(grep -m1 'ERROR' "$dir.resume.txt")"
    return
  fi
  resumed=$((resumed + 1))
  if cmp -s "$dir/$final" "$out/reference/$final"; then identical=$((identical + 1)); else fail "$dir/$final differs"; fi
}

modes=(kill9 term diskfull)
while [ $(( $(date +%s) - start )) -lt "$seconds" ]; do
  mode=${modes[cycles % 3]}
  cycles=$((cycles + 1))
  dir=$out/cycle_$cycles
  if [ "$mode" = diskfull ]; then
    [ $can_mount = 1 ] || continue
    mkdir -p "$dir.tmpfs"
    # 1.2 MB per checkpoint: room for 1 to 4 of them and the temporary file of the next.
    mount -t tmpfs -o size=$((2 + RANDOM % 4))m tmpfs "$dir.tmpfs"
    rc=0
    "$wb" run "$exp" "${args[@]}" --work-dir "$dir.tmpfs" >"$dir.txt" 2>&1 || rc=$?
    cp -a "$dir.tmpfs" "$dir"
    umount "$dir.tmpfs" && rmdir "$dir.tmpfs"
    if [ $rc = 0 ]; then finished_early=$((finished_early + 1)); rm -rf "$dir"; continue; fi
    grep -q "No space left on device (the checkpoints written before are intact: make room in .* and continue with --resume); the last good checkpoint is" "$dir.txt" \
      || fail "disk full without saying so (exit $rc): $(grep -m1 ERROR "$dir.txt")"
    rm -f "$dir"/*.tmp
  else
    sig=$([ "$mode" = kill9 ] && echo KILL || echo TERM)
    "$wb" run "$exp" "${args[@]}" --work-dir "$dir" >"$dir.txt" 2>&1 &
    pid=$!
    sleep "$(awk -v r=$RANDOM -v ms="$full_ms" 'BEGIN { printf "%.2f", 0.2 + r / 32768 * 0.9 * ms / 1000 }')"
    kill -"$sig" "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" 2>/dev/null || rc=$?  # (no "Killed" notice from the shell)
    if [ $rc = 0 ]; then finished_early=$((finished_early + 1)); rm -rf "$dir"; continue; fi
    want=$([ "$mode" = kill9 ] && echo 137 || echo 143)
    [ $rc = "$want" ] || fail "$mode: exit $rc, expected $want: $(tail -1 "$dir.txt")"
    # SIGTERM before the trainer took over (config, model, data) ends the process without a checkpoint.
    if [ "$mode" = term ] && grep -q "interrupted: saving a checkpoint" "$dir.txt" && [ ! -f "$dir/interrupted.safetensors" ]; then
      fail "SIGTERM: no interrupted.safetensors"
    fi
  fi
  stops[$mode]=$((stops[$mode] + 1))
  check_dir "$dir"
  resume_and_compare "$dir"
  rm -rf "$dir"
done

echo "soak: $(( $(date +%s) - start )) s, $cycles cycles: ${stops[kill9]} kill -9, ${stops[term]} SIGTERM," \
     "${stops[diskfull]} disk full, $finished_early finished before the stop"
echo "checkpoints left behind: $checkpoints, loaded: $loaded; resumed: $resumed, bit-identical to the" \
     "uninterrupted run: $identical; failures: $failures"
[ $failures = 0 ]
