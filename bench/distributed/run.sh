#!/usr/bin/env bash
# Data-parallel scaling on one machine: RetinaNet R-18 (configs/retinanet/retinanet_r18_fpn_bccd.conf, BCCD
# 640x480, 4 images per iteration in total) trained for ITERS iterations by
#   1 process  x 2 threads (batch 4)   and   2 processes (mpirun -np 2) x 1 thread (batch 2 each),
# printing images/s over the iterations after the first WARMUP and the gradient all-reduce's share of the
# training time (the trainer's closing line, which counts the wait for the slower rank too), then the
# all-reduce of that many floats alone (allreduce.c). Needs ../shared (BCCD), mpirun and the MPI module.
#   bench/distributed/run.sh [BUILD_DIR] [ITERS]      (defaults: build, 20)
# OMP_WAIT_POLICY (default ACTIVE, the fastest on a quiet machine; PASSIVE on a shared one) goes to both.
set -euo pipefail
build=${1:-build}
iters=${2:-20}
warmup=3
wait=${OMP_WAIT_POLICY:-ACTIVE}
wb=$(readlink -f "$build/bin/workbench")
cd "$(dirname "$0")/../.."
command -v mpirun >/dev/null || { echo "mpirun is missing (apt-get install openmpi-bin libopenmpi-dev)"; exit 77; }
test -d ../shared/datasets/bccd || { echo "../shared/datasets/bccd is missing"; exit 77; }
out=$(mktemp -d /tmp/bench_distributed.XXXXXX)
load=$(cut -d' ' -f1 /proc/loadavg)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
common=(configs/retinanet/retinanet_r18_fpn_bccd.conf --set schedule.by_epoch=false --set schedule.max_iters="$iters"
        --set evaluation.interval=0 --set checkpoint.interval=0 --set log.interval=1 --set data.workers=1
        --set schedule.warmup_iters=1 --set autoanchor=false)

# images/s from log.json's per-iteration times after the warm-up; the all-reduce share from the closing line.
report() {
  /usr/bin/python3 - "$1/log.json" "$2" "$3" "$warmup" "$4" <<'PY'
import json, re, sys
log, label, total_batch, warmup, text = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
times = [r["time"] for r in map(json.loads, open(log)) if r.get("mode") == "train"][warmup:]
step = sum(times) / len(times)
share = re.search(r"all-reduce over \d+ ranks: ([0-9.]+)% of the training time \(\d+ all-reduces, ([0-9.]+) ms each", open(text).read())
print(f"{label:<28} {step:8.3f} s/iter {total_batch / step:8.2f} images/s   all-reduce: "
      + (f"{share.group(1)}% of the time, {share.group(2)} ms each" if share else "none (one process)"))
PY
}

OMP_WAIT_POLICY=$wait "$wb" run "${common[@]}" --set data.batch_size=4 --threads 2 --work-dir "$out/one" \
  >"$out/one.txt" 2>&1 || { tail "$out/one.txt"; exit 1; }
mpirun --oversubscribe --bind-to core -np 2 -x OMP_WAIT_POLICY=$wait "$wb" run "${common[@]}" --set data.batch_size=2 \
  --threads 1 --work-dir "$out/two" >"$out/two.txt" 2>&1 || { tail "$out/two.txt"; exit 1; }
echo "RetinaNet R-18 FPN, BCCD 640x480, $iters iterations (the first $warmup not timed), $(nproc) cores," \
  "OMP_WAIT_POLICY=$wait, load average before: $load"
report "$out/one" "1 process x 2 threads" 4 "$out/one.txt"
report "$out/two" "2 processes x 1 thread" 4 "$out/two.txt"
grep -o "gradient all-reduce over .*" "$out/two.txt" || true
# The all-reduce alone (a barrier before each call), on RetinaNet R-18 BCCD's 19.81 M trainable parameters.
if command -v mpicc >/dev/null; then
  mpicc -O2 bench/distributed/allreduce.c -o "$out/allreduce"
  mpirun --oversubscribe -np 2 "$out/allreduce" 19813000 10
fi
rm -rf "$out"
