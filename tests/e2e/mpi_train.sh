#!/usr/bin/env bash
# mpirun -np 2 workbench run on localhost: 2 ranks x batch 2 train to the
# weights of 1 process x batch 4 (1e-5 relative); gradient buckets started
# during backward give the fused all-reduce's weights bit for bit, and with
# accumulation only the steps communicate; rank 0 alone writes the
# work dir; the log header shows the total batch; `mpirun -np 2 workbench
# eval` gives the 12 COCO numbers a single process gives; with sync_bn and BN
# training the same weights and BN statistics too; resume from 1 rank to 2
# and from 2 ranks to 1, at an epoch's end and from a SIGTERM mid-epoch.
set -euo pipefail
wb=$1 src=$2 out=$3
. "$(dirname "$0")/mpi_common.sh"
rm -rf "$out" && mkdir -p "$out"
cd "$src"
small=(--set data.train.dataset.num_images=16 --set evaluation.interval=0 --set checkpoint.interval=1)

# Asserts two checkpoints, of $4 and $3 iterations (8 unless given), hold the same weights and buffers (BN
# statistics) to 1e-5 of each tensor's scale.
same_weights() {
  /usr/bin/python3 - "$1" "$2" "${3:-8}" "${4:-8}" <<'PY'
import json, struct, sys
import numpy as np
def load(path):
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        data = f.read()
    meta = header.pop("__metadata__")
    return meta, {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], np.float32) for k, v in header.items()}
(m1, one), (m2, two) = load(sys.argv[1]), load(sys.argv[2])
assert m1["iteration"] == sys.argv[4] and m2["iteration"] == sys.argv[3], (m1, m2)
assert one.keys() == two.keys()
def worst(keys):
    w, name = 0.0, ""
    for k in keys:
        a, b = one[k].astype(np.float64), two[k].astype(np.float64)
        rel = np.abs(a - b).max() / max(np.abs(a).max(), 1e-30)
        if rel > w: w, name = rel, k
    return w, name
weights = [k for k in one if "::" not in k]
(w, name), (ws, sname) = worst(weights), worst([k for k in one if "::" in k])
print(f"{len(weights)} weights and buffers: largest difference {w:.2e} of the tensor's scale ({name}); "
      f"optimizer state: {ws:.2e} ({sname})")
assert w <= 1e-5, f"{name} differs by {w:.2e} relative"
PY
}

echo "== 2 ranks x batch 2 against 1 process x batch 4: 2 epochs of 4 steps"
"$wb" run "${tiny[@]}" "${small[@]}" --set data.batch_size=4 --set schedule.max_epochs=2 \
  --work-dir "$out/one" >"$out/one.txt" 2>&1 || { cat "$out/one.txt"; exit 1; }
mpi 2 "$wb" run "${tiny[@]}" "${small[@]}" --set data.batch_size=2 --set schedule.max_epochs=2 \
  --work-dir "$out/two" >"$out/two.txt" 2>&1 || { cat "$out/two.txt"; exit 1; }
grep -q "data-parallel training on 2 ranks (Open MPI" "$out/two.txt"
grep -q "4 iterations per epoch, total batch 4 (2 x 2 ranks)" "$out/two.txt"
test "$(grep -c 'Epoch \[2\]\[4/4\]' "$out/two.txt")" = 1 # one rank logs
same_weights "$out/one/epoch_2.safetensors" "$out/two/epoch_2.safetensors"
grep -q '"world_size":"2"' "$out/two/epoch_2.safetensors" && grep -q '"world_size":"1"' "$out/one/epoch_2.safetensors"

echo "== gradient buckets of 1 KB (11 buckets, started during backward) give the fused all-reduce's weights bit for bit"
mpi 2 "$wb" run "${tiny[@]}" "${small[@]}" --set data.batch_size=2 --set schedule.max_epochs=2 --set train.bucket_mb=0 \
  --work-dir "$out/fused" >"$out/fused.txt" 2>&1 || { cat "$out/fused.txt"; exit 1; }
mpi 2 "$wb" run "${tiny[@]}" "${small[@]}" --set data.batch_size=2 --set schedule.max_epochs=2 \
  --set train.bucket_mb=0.001 --work-dir "$out/buckets" >"$out/buckets.txt" 2>&1 || { cat "$out/buckets.txt"; exit 1; }
grep "gradient all-reduce" "$out/fused.txt" "$out/buckets.txt"
grep -q "at 8 optimizer steps, 1 bucket (bucket_mb 0): 0 of 8 started during backward" "$out/fused.txt"
grep -Eq "at 8 optimizer steps, [0-9]+ buckets \(bucket_mb 0.001\): [1-9][0-9]* of [0-9]+ started during" \
  "$out/buckets.txt"
cmp "$out/fused/epoch_2.safetensors" "$out/buckets/epoch_2.safetensors"
cmp "$out/fused/epoch_2.safetensors" "$out/two/epoch_2.safetensors" # the default 25 MB: one bucket here

echo "== accumulate = 2: 2 ranks x batch 1 communicate at the 8 steps of 16 iterations, the weights of 1 x batch 2"
acc=("${tiny[@]}" "${small[@]}" --set schedule.max_epochs=2 --set train.bucket_mb=0.001 --set optimizer.accumulate=2)
"$wb" run "${acc[@]}" --set data.batch_size=2 --work-dir "$out/acc_one" >"$out/acc_one.txt" 2>&1 \
  || { cat "$out/acc_one.txt"; exit 1; }
mpi 2 "$wb" run "${acc[@]}" --set data.batch_size=1 --work-dir "$out/acc_two" \
  >"$out/acc_two.txt" 2>&1 || { cat "$out/acc_two.txt"; exit 1; }
grep -q "Epoch \[2\]\[8/8\]" "$out/acc_two.txt"
grep -q "gradient all-reduce over 2 ranks at 8 optimizer steps" "$out/acc_two.txt"
same_weights "$out/acc_one/epoch_2.safetensors" "$out/acc_two/epoch_2.safetensors" 16 16

echo "== train.sync_bn = true with BN training: the same weights and BN statistics as 1 process x batch 4"
# One epoch of 4 steps: with BN training this tiny run is ill-conditioned by its 8th step, where one
# process with 1 thread and with 2 threads (the same code, summed in another order) already differ by
# 8.6e-3 of a tensor's scale; after 4 steps SyncBN agrees to about 1.5e-6 and per-rank BN differs by O(1).
bn=("${tiny[@]}" "${small[@]}" --set model.backbone.frozen_bn=false --set schedule.max_epochs=1)
"$wb" run "${bn[@]}" --set data.batch_size=4 --work-dir "$out/bn_one" >"$out/bn_one.txt" 2>&1 \
  || { cat "$out/bn_one.txt"; exit 1; }
mpi 2 "$wb" run "${bn[@]}" --set data.batch_size=2 --set train.sync_bn=true --work-dir "$out/bn_two" \
  >"$out/bn_two.txt" 2>&1 || { cat "$out/bn_two.txt"; exit 1; }
grep -q "sync_bn: batch norm statistics over 2 ranks" "$out/bn_two.txt"
same_weights "$out/bn_one/epoch_1.safetensors" "$out/bn_two/epoch_1.safetensors" 4 4
# without it each rank normalises by its own 2 images: the running statistics differ
mpi 2 "$wb" run "${bn[@]}" --set data.batch_size=2 --work-dir "$out/bn_local" >"$out/bn_local.txt" 2>&1 \
  || { cat "$out/bn_local.txt"; exit 1; }
if same_weights "$out/bn_one/epoch_1.safetensors" "$out/bn_local/epoch_1.safetensors" 4 4 >/dev/null 2>&1; then
  echo "per-rank BN statistics gave the whole batch's: the SyncBN comparison above proves nothing"; exit 1
fi

echo "== rank 0 alone writes the work dir (a second writer would double log.json's lines)"
test "$(wc -l <"$out/two/log.json")" = "$(wc -l <"$out/one/log.json")"
test "$(ls "$out/two")" = "$(ls "$out/one")"

echo "== mpirun -np 2 workbench eval: the same 12 COCO numbers as one process"
plain=(configs/tiny/center_tiny_synthetic.conf --threads 1 --set data.val.dataset.num_images=30)
"$wb" run "${plain[@]}" --set data.train.dataset.num_images=128 --set evaluation.interval=0 \
  --set schedule.max_epochs=8 --set "schedule.milestones=[7]" --work-dir "$out/trained" >"$out/trained.txt" 2>&1 \
  || { cat "$out/trained.txt"; exit 1; }
ev=("${plain[@]}" "$out/trained/epoch_8.safetensors")
"$wb" eval "${ev[@]}" --out "$out/one.json" >"$out/eval_one.txt" 2>&1 || { cat "$out/eval_one.txt"; exit 1; }
mpi 2 "$wb" eval "${ev[@]}" --out "$out/two.json" >"$out/eval_two.txt" 2>&1 || { cat "$out/eval_two.txt"; exit 1; }
grep 'Average' "$out/eval_one.txt" >"$out/one.numbers"
grep 'Average' "$out/eval_two.txt" >"$out/two.numbers"
test "$(wc -l <"$out/one.numbers")" = 12
diff "$out/one.numbers" "$out/two.numbers"
cmp "$out/one.json" "$out/two.json"
grep -E "bbox_mAP: [0-9.]+ \(30 images" "$out/eval_two.txt"
grep "IoU=0.50      | area=   all" "$out/one.numbers"

echo "== resume: 1 rank -> 2 ranks, 2 ranks -> 1 rank"
mkdir -p "$out/up" "$out/down"
cp "$out/one/epoch_1.safetensors" "$out/up/"
mpi 2 "$wb" run "${tiny[@]}" "${small[@]}" --set data.batch_size=2 --set schedule.max_epochs=2 --work-dir "$out/up" \
  --resume "$out/up/epoch_1.safetensors" >"$out/up.txt" 2>&1 || { cat "$out/up.txt"; exit 1; }
grep -q "the checkpoint is of 1 rank, this run has 2" "$out/up.txt" && test -f "$out/up/epoch_2.safetensors"
cp "$out/two/epoch_1.safetensors" "$out/down/"
"$wb" run "${tiny[@]}" "${small[@]}" --set data.batch_size=4 --set schedule.max_epochs=2 --work-dir "$out/down" \
  --resume "$out/down/epoch_1.safetensors" >"$out/down.txt" 2>&1 || { cat "$out/down.txt"; exit 1; }
grep -q "the checkpoint is of 2 ranks, this run has 1" "$out/down.txt"
# 2 x 2 and 1 x 4 see the same batches: resumed either way, the weights are the uninterrupted run's
same_weights "$out/one/epoch_2.safetensors" "$out/up/epoch_2.safetensors"
same_weights "$out/one/epoch_2.safetensors" "$out/down/epoch_2.safetensors"

echo "== mid-epoch, 2 ranks x 2 -> 1 x 4 and 1 x 4 -> 2 x 2 (total batch 4): the uninterrupted weights"
# iteration-based, so that the checkpoint is mid-epoch for sure: iteration 6 of 8 is the 2nd of epoch 2's 4
iters=("${tiny[@]}" "${small[@]}" --set schedule.by_epoch=false --set checkpoint.interval=1000)
"$wb" run "${iters[@]}" --set data.batch_size=4 --set schedule.max_iters=8 --work-dir "$out/it_ref" \
  >"$out/it_ref.txt" 2>&1 || { cat "$out/it_ref.txt"; exit 1; }
for way in "2 2 1 4" "1 4 2 2"; do
  read -r from_np from_b to_np to_b <<<"$way"
  dir=$out/it_${from_np}_to_$to_np
  mpi "$from_np" "$wb" run "${iters[@]}" --set data.batch_size="$from_b" --set schedule.max_iters=6 --work-dir "$dir" \
    >"$dir.txt" 2>&1 || { cat "$dir.txt"; exit 1; }
  mpi "$to_np" "$wb" run "${iters[@]}" --set data.batch_size="$to_b" --set schedule.max_iters=8 --work-dir "$dir" \
    --resume "$dir/iter_6.safetensors" >"$dir.resumed.txt" 2>&1 || { cat "$dir.resumed.txt"; exit 1; }
  grep "epoch 2 goes on in the writer's order (seed, epoch, total batch 4) after the 8 images it consumed (2 iterations)" \
    "$dir.resumed.txt"
  same_weights "$out/it_ref/iter_8.safetensors" "$dir/iter_8.safetensors"
done
# another total batch: another epoch order, refused with the total to use
if "$wb" run "${iters[@]}" --set data.batch_size=2 --set schedule.max_iters=8 --work-dir "$out/it_2_to_1" \
     --resume "$out/it_2_to_1/iter_6.safetensors" >"$out/it_other.txt" 2>&1; then
  echo "a mid-epoch checkpoint of total batch 4 must be refused with total batch 2"; exit 1
fi
grep -q "with 4 images per iteration in total, and this run takes 2; an epoch's order depends on that total: resume \
with data.batch_size x ranks = 4" "$out/it_other.txt" || { cat "$out/it_other.txt"; exit 1; }

echo "== SIGTERM mid-epoch: interrupted.safetensors of 2 ranks resumed by 1, of 1 by 2, to the end"
mid=("${tiny[@]}" --set data.train.dataset.num_images=64 --set evaluation.interval=0 --set checkpoint.interval=1
     --set schedule.max_epochs=3)
# Interrupts a run of $1 ranks x batch $2 after its first epoch, resumes it with $3 ranks x batch $4.
interrupt_and_resume() {
  local dir=$out/mid_$1_to_$3 victim="" rc=0
  mpi "$1" "$wb" run "${mid[@]}" --set data.batch_size="$2" --work-dir "$dir" >"$dir.txt" 2>&1 &
  local job=$!
  for _ in $(seq 600); do [ -e "$dir/epoch_1.safetensors" ] && break; sleep 0.1; done
  for p in $(pgrep -f "$wb run .*$dir"); do # rank 0; the trainer tells the other ranks
    if tr '\0' '\n' </proc/"$p"/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=0"; then victim=$p; fi
  done
  test -n "$victim" || { cat "$dir.txt"; echo "rank 0 not found"; exit 1; }
  kill -TERM "$victim"
  wait "$job" || rc=$?
  test "$rc" = 143 || { cat "$dir.txt"; echo "a run stopped by SIGTERM exits 143 (128 + 15), not $rc"; exit 1; }
  test -f "$dir/interrupted.safetensors" || { cat "$dir.txt"; exit 1; }
  mpi "$3" "$wb" run "${mid[@]}" --set data.batch_size="$4" --work-dir "$dir" \
    --resume "$dir/interrupted.safetensors" >"$dir.resumed.txt" 2>&1 || { cat "$dir.resumed.txt"; exit 1; }
  # mid-epoch (almost always: the signal lands in epoch 2 or 3 of 16 iterations) or at an epoch's end
  grep -E "the checkpoint is of $1 ranks?, this run has $3: (epoch [23] goes on in the writer's order|epoch [12] ends)" \
    "$dir.resumed.txt"
  grep -q "Epoch \[3\]\[16/16\]" "$dir.resumed.txt" && test -f "$dir/epoch_3.safetensors"
}
interrupt_and_resume 2 2 1 4
interrupt_and_resume 1 4 2 2

echo "== data.image_weights under 2 ranks: the same draws dealt out; rect in evaluation is refused before training"
mpi 2 "$wb" run "${tiny[@]}" "${small[@]}" --set data.batch_size=2 --set schedule.max_epochs=1 \
  --set data.image_weights=true --work-dir "$out/weights" >"$out/weights.txt" 2>&1 || { cat "$out/weights.txt"; exit 1; }
grep -q "image_weights: .* weigh the draws" "$out/weights.txt" && grep -q "Epoch \[1\]\[4/4\]" "$out/weights.txt"
if mpi 2 "$wb" run "${tiny[@]}" --set data.val.rect=true --work-dir "$out/rect" >"$out/rect.txt" 2>&1; then
  echo "data.val.rect with 2 ranks must be refused"; exit 1
fi
grep -q "data.val.rect is not supported with 2 ranks yet: evaluation deals images out" "$out/rect.txt" \
  || { cat "$out/rect.txt"; exit 1; }
test ! -e "$out/rect/epoch_1.safetensors"
echo "11 passed, 0 failed"
