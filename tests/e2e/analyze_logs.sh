#!/usr/bin/env bash
# workbench analyze-logs on two hand-written log.json files whose numbers are
# known: --train-time's epochs (time weighted by the iterations each line
# covers, each epoch's first line left out unless --include-outliers) equal
# the values worked out by hand below; the curves picture has one 900 x 600
# panel per key, both runs' colours (tab10 blue and orange) drawn in it; a key
# a log lacks, a bad --legend count and a line that is not JSON are refused
# with their messages. Under a second.
#   analyze_logs.sh WORKBENCH SCRATCH_DIR
set -euo pipefail
wb=$1 out=$2
rm -rf "$out" && mkdir -p "$out/a" "$out/b"
# run a: 30 iterations an epoch, lines every 10; its epoch-1 times 0.5 (warm-up), 0.2, 0.3; epoch 2: 0.4, 0.1, 0.1
cat >"$out/a/log.json" <<'JSON'
{"mode": "train", "epoch": 1, "iter": 10, "lr": 1.0e-02, "time": 0.50000, "loss": 2.0, "loss_cls": 1.2}
{"mode": "train", "epoch": 1, "iter": 20, "lr": 1.0e-02, "time": 0.20000, "loss": 1.8, "loss_cls": 1.0}
{"mode": "train", "epoch": 1, "iter": 30, "lr": 1.0e-02, "time": 0.30000, "loss": 1.5, "loss_cls": 0.9}
{"mode": "val", "epoch": 1, "bbox_mAP": 0.10}
{"mode": "resume", "iteration": 30, "checkpoint": "a/epoch_1.safetensors", "time": "2026-12-06 10:00:00"}
{"mode": "train", "epoch": 2, "iter": 10, "lr": 1.0e-03, "time": 0.40000, "loss": 1.2, "loss_cls": 0.7}
{"mode": "train", "epoch": 2, "iter": 20, "lr": 1.0e-03, "time": 0.10000, "loss": 1.1, "loss_cls": 0.6}
{"mode": "train", "epoch": 2, "iter": 30, "lr": 1.0e-03, "time": 0.10000, "loss": 1.0, "loss_cls": 0.5}
{"mode": "val", "epoch": 2, "bbox_mAP": 0.20}
JSON
# run b: 20 iterations an epoch, one line an epoch (kept: an epoch's only measurement)
cat >"$out/b/log.json" <<'JSON'
{"mode": "train", "epoch": 1, "iter": 20, "lr": 1.0e-02, "time": 0.60000, "loss": 2.5, "loss_cls": 1.5}
{"mode": "val", "epoch": 1, "bbox_mAP": 0.05}
{"mode": "train", "epoch": 2, "iter": 20, "lr": 1.0e-02, "time": 0.70000, "loss": 2.1, "loss_cls": 1.1}
{"mode": "val", "epoch": 2, "bbox_mAP": 0.15}
JSON
"$wb" analyze-logs "$out/a/log.json" "$out/b/log.json" --train-time >"$out/time.txt"
cat >"$out/time_expected.txt" <<EOF2
-----Analyze train time of $out/a/log.json-----
slowest epoch 1, average time is 0.2500 s/iter
fastest epoch 2, average time is 0.1000 s/iter
time std over epochs is 0.0750
average iter time: 0.1750 s/iter
average epoch time: 5.25 s (30 iterations)
-----Analyze train time of $out/b/log.json-----
slowest epoch 2, average time is 0.7000 s/iter
fastest epoch 1, average time is 0.6000 s/iter
time std over epochs is 0.0500
average iter time: 0.6500 s/iter
average epoch time: 13.00 s (20 iterations)
EOF2
diff -u "$out/time_expected.txt" "$out/time.txt"
# with the warm-up lines: epoch 1 (0.5 + 0.2 + 0.3) / 3, epoch 2 (0.4 + 0.1 + 0.1) / 3
"$wb" analyze-logs "$out/a/log.json" --train-time --include-outliers >"$out/time_all.txt"
grep -qx "slowest epoch 1, average time is 0.3333 s/iter" "$out/time_all.txt"
grep -qx "fastest epoch 2, average time is 0.2000 s/iter" "$out/time_all.txt"
echo "train time: the epochs' seconds per iteration as worked out by hand"

"$wb" analyze-logs "$out/a/log.json" "$out/b/log.json" --keys loss_cls bbox_mAP lr --legend a b \
  --out "$out/curves.png" 2>"$out/plot.txt"
grep -q "6 curves of 2 logs: $out/curves.png" "$out/plot.txt"
/usr/bin/python3 - "$out/curves.png" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
assert im.size == (1800, 1200), im.size  # 3 panels, 2 a row
def count(color, box):
    """Pixels of box within 8 grey levels of color (antialiased edges aside)."""
    return sum(n for n, c in im.crop(box).getcolors(1 << 24) if all(abs(c[i] - color[i]) <= 8 for i in range(3)))
blue, orange = (31, 119, 180), (255, 127, 14)
for name, box in (("loss_cls", (0, 0, 900, 600)), ("bbox_mAP", (900, 0, 1800, 600)), ("lr", (0, 600, 900, 1200))):
    for cname, c in (("a (blue)", blue), ("b (orange)", orange)):
        n = count(c, box)
        assert n > 200, f"{name}: {cname} drawn in {n} pixels"
# the fourth cell holds no panel
assert count((0, 0, 0), (900, 600, 1800, 1200)) == 0
print("curves.png: 3 panels, both runs drawn in each")
PY
. "$(dirname "$0")/expect_fail.sh"
expect_fail 2 "$out/a/log.json has no \"grad_norm\"; its numbers are: lr, time, loss, loss_cls, bbox_mAP (choose --keys among them)" \
  "$out/missing.txt" -- "$wb" analyze-logs "$out/a/log.json" "$out/b/log.json" --keys grad_norm --out "$out/x.png"
sed -i '8s/}$//' "$out/a/log.json"   # a cut line: not JSON
expect_fail 1 "$out/a/log.json:8: not a JSON object; is this a workbench log.json?" "$out/bad.txt" -- \
  "$wb" analyze-logs "$out/a/log.json" --out "$out/x.png"
expect_fail 2 "--legend names 1 label for 2 logs; give one per log" "$out/legend.txt" -- \
  "$wb" analyze-logs "$out/a/log.json" "$out/b/log.json" --legend a
test ! -e "$out/x.png" || { echo "a refused analyze-logs wrote a picture"; exit 1; }
"$wb" analyze-logs --help | grep -q "Usage: workbench analyze-logs LOG.json..."
