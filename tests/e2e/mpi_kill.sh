#!/usr/bin/env bash
# A rank killed with SIGKILL mid-epoch ends the whole 2-rank job within 30 s
# with a message naming the rank (no rank left waiting in an all-reduce);
# the last checkpoint loads, and one process resumes from it to the end. A
# NaN loss on a rank stops both ranks at that iteration, naming the rank; a
# mid-epoch checkpoint of 2 ranks is refused by 1 with another total batch,
# saying why.
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

echo "== a NaN loss (lr 10, momentum 1, no checkpoint before it) on a rank stops every rank at that iteration"
nan=(configs/tiny/center_tiny_synthetic.conf --threads 1 --set data.workers=1 --set data.batch_size=4
     --set schedule.by_epoch=false --set schedule.max_iters=400 --set checkpoint.interval=1000 --set evaluation.interval=0
     --set optimizer.lr=10.0 --set optimizer.momentum=1.0 --set optimizer.grad_clip=0.0 --set schedule.policy=\"constant\"
     --set schedule.warmup=\"none\")
if mpi 2 "$wb" run "${nan[@]}" --work-dir "$out/nan" >"$out/nan.txt" 2>&1; then
  cat "$out/nan.txt"; echo "a diverging job must fail"; exit 1
fi
# each rank names itself with its NaN, or (its batch still finite) the rank whose loss was NaN; counted as
# matches, not lines, in case the launcher joins the two ranks' lines
own='is (NaN|Inf) at iteration [0-9]+ \(on rank [01]\)'
other='rank [01] failed in this iteration \(its message is above\); every rank stops'
grep -E "$own" "$out/nan.txt"
test "$(grep -oE "$own|$other" "$out/nan.txt" | wc -l)" = 2 || { cat "$out/nan.txt"; exit 1; }
test "$(grep -oE "at iteration [0-9]+ \(on rank" "$out/nan.txt" | sort -u | wc -l)" = 1 # one iteration
grep -q "rank [01] of 2 ends with exit code 1, and with it the job" "$out/nan.txt"

echo "== a mid-epoch checkpoint of 2 ranks x 2: 1 rank x 2 (another total batch) cannot continue it and says why"
mpi 2 "$wb" run "${run[@]}" --set checkpoint.interval=1000 --set schedule.by_epoch=false --set schedule.max_iters=20 \
  --work-dir "$out/mid" >"$out/mid.txt" 2>&1 || { cat "$out/mid.txt"; exit 1; }
if "$wb" run "${run[@]}" --set schedule.by_epoch=false --set schedule.max_iters=30 --work-dir "$out/mid" \
     --resume "$out/mid/iter_20.safetensors" >"$out/mid_one.txt" 2>&1; then
  echo "a mid-epoch checkpoint of 2 ranks must be refused by 1"; exit 1
fi
grep -q "cannot resume with 1 rank: the checkpoint was written by 2 in the middle of an epoch (4 iterations into it) \
with 4 images per iteration in total, and this run takes 2" "$out/mid_one.txt" || { cat "$out/mid_one.txt"; exit 1; }
echo "3 passed, 0 failed"
