#!/usr/bin/env bash
# Data-parallel scaling on one machine: RetinaNet R-18 (configs/retinanet/retinanet_r18_fpn_bccd.conf, BCCD
# 640x480, 4 images per iteration in total) trained for ITERS iterations by
#   1 process  x 2 threads (batch 4)   and   2 processes (mpirun -np 2) x 1 thread (batch 2 each),
# the latter twice: gradients in one all-reduce after backward (train.bucket_mb = 0) and in 25 MB buckets
# started during backward (the default), printing images/s over the iterations after the first WARMUP and,
# from the trainer's closing line, how many buckets started during backward and the share of the training
# time spent waiting for the sums after backward (the communication backward did not hide, waiting for the
# slower rank included), then the all-reduce of that many floats alone (allreduce.c). Needs ../shared (BCCD),
# mpirun and the MPI module.
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

# images/s from log.json's per-iteration times after the warm-up; the buckets and the wait from the closing line.
report() {
  /usr/bin/python3 - "$1/log.json" "$2" "$3" "$warmup" "$4" <<'PY'
import json, re, sys
log, label, total_batch, warmup, text = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
times = [r["time"] for r in map(json.loads, open(log)) if r.get("mode") == "train"][warmup:]
step = sum(times) / len(times)
share = re.search(r"(\d+) buckets? \(bucket_mb [0-9.]+\): (\d+) of (\d+) started during backward; waiting for the "
                  r"sums after backward ([0-9.]+)% of the training time \(([0-9.]+) ms per step\)", open(text).read())
print(f"{label:<38} {step:8.3f} s/iter {total_batch / step:8.2f} images/s   all-reduce: "
      + (f"{share.group(1)} bucket(s), {share.group(2)} of {share.group(3)} started during backward, waiting "
         f"{share.group(4)}% of the time ({share.group(5)} ms per step)" if share else "none (one process)"))
PY
}

OMP_WAIT_POLICY=$wait "$wb" run "${common[@]}" --set data.batch_size=4 --threads 2 --work-dir "$out/one" \
  >"$out/one.txt" 2>&1 || { tail "$out/one.txt"; exit 1; }
for mb in 0 25; do
  mpirun --oversubscribe --bind-to core -np 2 -x OMP_WAIT_POLICY=$wait "$wb" run "${common[@]}" \
    --set data.batch_size=2 --set train.bucket_mb=$mb --threads 1 --work-dir "$out/two_$mb" >"$out/two_$mb.txt" 2>&1 \
    || { tail "$out/two_$mb.txt"; exit 1; }
done
echo "RetinaNet R-18 FPN, BCCD 640x480, $iters iterations (the first $warmup not timed), $(nproc) cores," \
  "OMP_WAIT_POLICY=$wait, load average before: $load"
report "$out/one" "1 process x 2 threads" 4 "$out/one.txt"
report "$out/two_0" "2 x 1, one all-reduce after backward" 4 "$out/two_0.txt"
report "$out/two_25" "2 x 1, 25 MB buckets" 4 "$out/two_25.txt"
grep -ho "gradient all-reduce over .*" "$out/two_0.txt" "$out/two_25.txt" || true
# The all-reduce alone (a barrier before each call), on RetinaNet R-18 BCCD's 19.81 M trainable parameters.
if command -v mpicc >/dev/null; then
  mpicc -O2 bench/distributed/allreduce.c -o "$out/allreduce"
  mpirun --oversubscribe -np 2 "$out/allreduce" 19813000 10
fi
rm -rf "$out"
