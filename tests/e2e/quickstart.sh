#!/usr/bin/env bash
# End to end: `workbench run` trains the quickstart detector on the synthetic
# dataset; the loss must fall, and a run stopped after 2 epochs and resumed
# must end with exactly the weights of an uninterrupted 3-epoch run.
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$src"

echo "== training 12 epochs (384 iterations)"
"$wb" run configs/quickstart.conf --work-dir "$out/full" >"$out/full.txt" 2>&1 || { cat "$out/full.txt"; exit 1; }
/usr/bin/python3 - "$out/full/log.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) >= 10, f"expected at least 10 log lines, got {len(rows)}"
first, last = rows[0]["loss"], sum(r["loss"] for r in rows[-3:]) / 3
print(f"loss first interval {first:.4f}, last three intervals {last:.4f}")
assert last < 0.5 * first, "the loss did not fall below half of its first value"
PY
test -f "$out/full/epoch_12.safetensors"
test -f "$out/full/config.conf"

echo "== resume: 2 epochs, then continue to 3; compare with 3 uninterrupted"
common=(--set schedule.max_epochs=3 --set "schedule.milestones=[2]")
"$wb" run configs/quickstart.conf "${common[@]}" --work-dir "$out/straight" >"$out/straight.txt" 2>&1
"$wb" run configs/quickstart.conf --set schedule.max_epochs=2 --set "schedule.milestones=[2]" \
  --work-dir "$out/resumed" >"$out/part1.txt" 2>&1
"$wb" run configs/quickstart.conf "${common[@]}" --work-dir "$out/resumed" --resume >"$out/part2.txt" 2>&1 \
  || { cat "$out/part2.txt"; exit 1; }
cmp "$out/straight/epoch_3.safetensors" "$out/resumed/epoch_3.safetensors"
echo "resumed run is bit-identical to the uninterrupted one"
echo "1 passed, 0 failed"
