#!/usr/bin/env bash
# A rank killed with SIGKILL mid-epoch ends the whole 2-rank job within 30 s
# with a message naming the rank (no rank left waiting in an all-reduce);
# the last checkpoint loads, and one process resumes from it to the end.
set -euo pipefail
wb=$1 src=$2 out=$3
. "$(dirname "$0")/mpi_common.sh"
rm -rf "$out" && mkdir -p "$out"
cd "$src"
run=("${tiny[@]}" --set data.train.dataset.num_images=64 --set data.batch_size=2 --set evaluation.interval=0
     --set checkpoint.interval=1 --set schedule.max_epochs=40)

mpi 2 "$wb" run "${run[@]}" --work-dir "$out/job" >"$out/job.txt" 2>&1 &
job=$!
for _ in $(seq 600); do [ -e "$out/job/epoch_1.safetensors" ] && break; sleep 0.1; done
test -e "$out/job/epoch_1.safetensors" || { cat "$out/job.txt"; echo "no checkpoint after 60 s"; exit 1; }
# rank 1: the process of this job whose environment says so
victim=""
for p in $(pgrep -f "$wb run"); do
  if tr '\0' '\n' </proc/"$p"/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1"; then victim=$p; fi
done
test -n "$victim" || { echo "rank 1 not found"; kill "$job"; exit 1; }
killed_at=$(date +%s)
kill -KILL "$victim"
rc=0
wait "$job" || rc=$?
took=$(( $(date +%s) - killed_at ))
echo "the job ended $took s after rank 1 was killed, exit code $rc"
test "$rc" != 0
test "$took" -le 30
grep -E "rank 1 .*(exited on signal 9|Killed)" "$out/job.txt" || { tail -20 "$out/job.txt"; exit 1; }

last=$(readlink -f "$out/job/latest.safetensors")
done_epochs=${last##*epoch_}; done_epochs=${done_epochs%.safetensors}
echo "last checkpoint: $(basename "$last")"
"$wb" run "${run[@]}" --set data.batch_size=4 --set schedule.max_epochs=$((done_epochs + 1)) --work-dir "$out/job" \
  --resume "$last" >"$out/resumed.txt" 2>&1 || { cat "$out/resumed.txt"; exit 1; }
grep -q "the checkpoint is of 2 ranks, this run has 1" "$out/resumed.txt"
test -f "$out/job/epoch_$((done_epochs + 1)).safetensors"
echo "1 passed, 0 failed"
