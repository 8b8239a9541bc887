#!/usr/bin/env bash
# The run files YOLOv5 users read first: a 2-epoch training of the tiny
# detector on the synthetic dataset writes results.csv, results.png,
# labels.jpg, train_batch0..2.jpg, val_batch0_labels.jpg / _pred.jpg, the
# PR / F1 / P / R curves and confusion_matrix.png; each decodes (Debian's
# PIL) as the format and size stated in core/plots/*.h, and every
# results.csv number is recomputed from log.json. About 5 s.
#   run_plots.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$src"
# log.interval 8 divides the 32 iterations of an epoch: results.csv's train columns are exact epoch means.
"$wb" run configs/tiny/center_tiny_synthetic.conf --work-dir "$out/run" --threads 1 \
  --set schedule.max_epochs=2 --set "schedule.milestones=[1]" --set log.interval=8 >"$out/run.txt" 2>&1 \
  || { cat "$out/run.txt"; exit 1; }
grep -q "YOLOv5's metrics (ap_per_class)" "$out/run.txt" || { echo "no per-class YOLOv5 table after validation"; exit 1; }
/usr/bin/python3 - "$out/run" <<'PY'
import csv, json, math, os, sys
from PIL import Image

run = sys.argv[1]
# 8 images of 128 x 128 a batch: a 3 x 3 grid. results.png: 3 loss panels + 4 metrics, 5 a row.
expected = {"results.png": ("PNG", 2400, 1200), "labels.jpg": ("JPEG", 1600, 1600),
            "PR_curve.png": ("PNG", 1600, 1200), "F1_curve.png": ("PNG", 1600, 1200),
            "P_curve.png": ("PNG", 1600, 1200), "R_curve.png": ("PNG", 1600, 1200),
            "confusion_matrix.png": ("PNG", 1800, 1350),
            "val_batch0_labels.jpg": ("JPEG", 384, 384), "val_batch0_pred.jpg": ("JPEG", 384, 384)}
expected.update({f"train_batch{i}.jpg": ("JPEG", 384, 384) for i in range(3)})
for name, (fmt, w, h) in expected.items():
    with Image.open(os.path.join(run, name)) as im:
        im.load()  # decodes every pixel: a truncated file fails here
        assert (im.format, im.size) == (fmt, (w, h)), f"{name}: {im.format} {im.size}, expected {fmt} {(w, h)}"
        lo, hi = im.convert("L").getextrema()
        assert hi - lo > 50, f"{name}: a blank picture (grey levels {lo}..{hi})"
print(f"{len(expected)} pictures decode with the stated formats and sizes")

lines = [json.loads(l) for l in open(os.path.join(run, "log.json")) if l.strip()]
train = [l for l in lines if l["mode"] == "train"]
val = {l["epoch"]: l for l in lines if l["mode"] == "val"}
not_terms = {"mode", "epoch", "iter", "time", "data_time", "memory", "grad_norm", "lr"}
rows = list(csv.DictReader(open(os.path.join(run, "results.csv"))))
assert [int(r["epoch"]) for r in rows] == [1, 2], [r["epoch"] for r in rows]
assert "val/box_loss" not in rows[0], "validation computes no loss: no val columns"
checked = 0
for row in rows:
    e = int(row["epoch"])
    mine = [l for l in train if l["epoch"] == e]
    assert len(mine) == 4, f"epoch {e}: {len(mine)} train lines, expected 32 / 8"
    weights = [b["iter"] - a for a, b in zip([0] + [l["iter"] for l in mine], mine)]
    for key in (k for k in mine[0] if k not in not_terms):
        want = sum(w * l[key] for w, l in zip(weights, mine)) / sum(weights)
        assert math.isclose(float(row["train/" + key]), want, rel_tol=1e-9), (e, key, row["train/" + key], want)
        checked += 1
    assert float(row["x/lr"]) == mine[-1]["lr"], (e, row["x/lr"], mine[-1]["lr"])
    for key in ("precision", "recall", "mAP_0.5", "mAP_0.5:0.95", "bbox_mAP", "bbox_mAP_50"):
        assert float(row["metrics/" + key]) == val[e][key], (e, key, row["metrics/" + key], val[e][key])
        checked += 1
assert 0 < float(rows[-1]["metrics/mAP_0.5"]) <= 1
print(f"results.csv: {checked} loss means and metrics equal log.json's; lr the epoch's last")
PY
