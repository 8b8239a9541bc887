#!/usr/bin/env bash
# End to end: autoanchor before `workbench run` of yolov5n on the shared coco128 (one iteration): with poor
# anchors it logs both BPRs, and the anchors it found are the ones in config.conf and in the checkpoint (the
# head's anchors buffer); with YOLOv5's default anchors scaled to 256 px (the letterbox's size, the training size
# autoanchor scales the boxes to) it keeps them; autoanchor = false skips it.
# Exit 77 (skipped) without ../shared.
set -euo pipefail
wb=$1 src=$2 out=$3
shared="$src/../shared/datasets/coco128"
[ -d "$shared" ] || { echo "SKIPPED: no shared coco128 at $shared"; exit 77; }
rm -rf "$out" && mkdir -p "$out"
cat >"$out/y.conf" <<CONF
@include "$src/configs/_base_/default_runtime.conf"
@include "$src/configs/_base_/datasets/coco128_yolo.conf"
@include "$src/configs/_base_/models/yolov5_n.conf"
# 256 px instead of 640 keeps the one iteration and the pictures after it short
data = { data_root = "$shared"; batch_size = 2;
         train = { pipeline = ( { type = "letterbox"; size = [256, 256]; },
                                { type = "normalize"; mean = [0.0, 0.0, 0.0]; std = [255.0, 255.0, 255.0]; } ); };
         val = { pipeline = ( { type = "letterbox"; size = [256, 256]; },
                              { type = "normalize"; mean = [0.0, 0.0, 0.0]; std = [255.0, 255.0, 255.0]; } ); }; };
model = { head = { img_size = 256; }; };
schedule = { by_epoch = false; max_iters = 1; };
evaluation = { interval = 100; };
CONF
poor="[5,6, 8,9, 10,12, 14,16, 18,20, 22,25, 30,30, 40,40, 50,50]"
default_256="[4.0,5.2, 6.4,12.0, 13.2,9.2, 12.0,24.4, 24.8,18.0, 23.6,47.6, 46.4,36.0, 62.4,79.2, 149.2,130.4]"  # x 256 / 640
run() {  # run NAME ARGS...
  local name=$1; shift
  "$wb" --threads 2 run "$out/y.conf" --work-dir "$out/$name" "$@" >"$out/$name.txt" 2>&1 \
    || { cat "$out/$name.txt"; echo "run $name failed"; exit 1; }
}

echo "== poor anchors: replaced"
run poor --set "model.head.anchors=$poor"
grep "\[autoanchor\]" "$out/poor.txt"
/usr/bin/python3 - "$out/poor" "$out/poor.txt" <<'PY'
import json, re, struct, sys
import numpy as np
work, log = sys.argv[1], open(sys.argv[2]).read()
m = re.search(r"BPR (0\.\d+) -> (0\.\d+) .*model\.head\.anchors = \[([\d, ]+)\]", log)
assert m, "no 'BPR a -> b' line"
before, after = float(m.group(1)), float(m.group(2))
assert before < 0.98 and after > before, (before, after)
logged = [float(v) for v in m.group(3).replace(",", " ").split()]
conf = open(f"{work}/config.conf").read()
cfg = [float(v) for v in re.search(r"\n\s*anchors = \[([^\]]*)\]", conf).group(1).split(",")]
assert len(cfg) == 18 and np.allclose(cfg, logged, atol=0.5), (cfg, logged)
areas = [cfg[2 * i] * cfg[2 * i + 1] for i in range(9)]
assert areas == sorted(areas), "anchors not ordered small to large (P3 first)"
with open(f"{work}/latest.safetensors", "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    s, e = header["head.anchors"]["data_offsets"]
    f.seek(8 + n + s)
    stored = np.frombuffer(f.read(e - s), dtype=np.float32)
assert np.allclose(stored, np.float32(cfg)), (stored, cfg)
print(f"BPR {before} -> {after}; config.conf and the checkpoint's head.anchors hold the new anchors")
PY

echo "== YOLOv5's default anchors at 256 px: kept"
run default --set "model.head.anchors=$default_256"
grep "\[autoanchor\]" "$out/default.txt"
grep -q "\[autoanchor\] the configured anchors fit the dataset" "$out/default.txt" || { cat "$out/default.txt"; exit 1; }
grep -q "anchors = \[ 4.0, 5.2, 6.4, 12.0," "$out/default/config.conf" || { grep anchors "$out/default/config.conf"; exit 1; }

echo "== autoanchor = false: not checked"
run off --set "model.head.anchors=$poor" --set autoanchor=false
! grep -q "\[autoanchor\]" "$out/off.txt"
grep -q "anchors = \[ 5.0, 6.0, 8.0" "$out/off/config.conf" || { grep anchors "$out/off/config.conf"; exit 1; }
echo "autoanchor e2e passed"
