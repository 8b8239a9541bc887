#!/usr/bin/env bash
# The run files YOLOv5 users read first: a 2-epoch training of the tiny
# detector on the synthetic dataset writes results.csv, results.png,
# labels.jpg, train_batch0..2.jpg, val_batch0_labels.jpg / _pred.jpg, the
# PR / F1 / P / R curves and confusion_matrix.png; each decodes (Debian's
# PIL) as the format and size stated in core/plots/*.h, and every
# results.csv number is recomputed from log.json (the val losses and the
# lr of each parameter group included); save_best refuses a val loss. About 7 s.
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
# 8 images of 128 x 128 a batch: a 3 x 3 grid. results.png: 3 train loss panels + 4 metrics + 3 val loss
# panels, 5 a row.
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
not_terms = {"mode", "epoch", "iter", "time", "data_time", "memory", "grad_norm", "lr", "lr0", "lr1", "lr2",
             "momentum"}
rows = list(csv.DictReader(open(os.path.join(run, "results.csv"))))
assert [int(r["epoch"]) for r in rows] == [1, 2], [r["epoch"] for r in rows]
# the val losses: the head's terms (center_head: loss_cls, loss_bbox) and their sum, after the metrics (YOLOv5's order)
terms = [k for k in train[0] if k not in not_terms and k != "loss"]
header = list(rows[0])
val_cols = ["val/" + k for k in terms] + ["val/loss"]
last_metric = max(i for i, c in enumerate(header) if c.startswith("metrics/"))
assert len(terms) == 2 and header[last_metric + 1:last_metric + 1 + len(val_cols)] == val_cols, header
assert [c for c in header if c.startswith("x/")] == ["x/lr", "x/lr0", "x/lr1", "x/lr2"], header
for e, v in val.items():
    assert math.isclose(v["val/loss"], sum(v["val/" + k] for k in terms), rel_tol=1e-5), v
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
    for key in ("lr", "lr0", "lr1", "lr2"):
        assert float(row["x/" + key]) == mine[-1][key], (e, key, row["x/" + key], mine[-1][key])
    assert mine[-1]["lr1"] == mine[-1]["lr2"] == mine[-1]["lr"] and 0.8 < mine[-1]["momentum"] < 1
    for key in val_cols:
        assert float(row[key]) == val[e][key] and val[e][key] > 0, (e, key, row[key], val[e][key])
        checked += 1
    for key in ("precision", "recall", "mAP_0.5", "mAP_0.5:0.95", "bbox_mAP", "bbox_mAP_50"):
        assert float(row["metrics/" + key]) == val[e][key], (e, key, row["metrics/" + key], val[e][key])
        checked += 1
assert 0 < float(rows[-1]["metrics/mAP_0.5"]) <= 1
print(f"results.csv: {checked} loss means, metrics and val losses equal log.json's; lr0..2 the epoch's last")
PY
# a validation loss is logged beside the metrics but cannot be save_best's (it keeps the highest value)
. "$src/tests/e2e/expect_fail.sh"
expect_fail 1 'checkpoint.save_best = "val/loss" is a validation loss' "$out/save_best.txt" -- \
  "$wb" run configs/tiny/center_tiny_synthetic.conf --work-dir "$out/save_best" --threads 1 \
  --set schedule.max_epochs=1 --set 'checkpoint.save_best="val/loss"'
