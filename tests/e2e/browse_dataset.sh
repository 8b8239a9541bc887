#!/usr/bin/env bash
# workbench browse-dataset on the synthetic dataset (no files needed): pictures after a pipeline whose steps
# come from transform plugins (to_gray, blur) are grey where --not-show-pipeline's are coloured; sizes, count,
# --help, and the usage errors (a misspelt plugin transform is named with its suggestion: exit 2).
#   browse_dataset.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$out"
cat > exp.conf <<EOF2
@include "$src/configs/_base_/datasets/synthetic.conf"
data = { train = { pipeline = (
  { type = "to_gray"; p = 1.0; },
  { type = "blur"; p = 1.0; blur_limit = [3, 3]; },
  { type = "normalize"; mean = [127.5, 127.5, 127.5]; std = [64.0, 64.0, 64.0]; to_rgb = true; }
); }; };
EOF2
"$wb" browse-dataset --help | grep -q "Usage: workbench browse-dataset"
"$wb" browse-dataset exp.conf --num 4 --out pipe | tee pipe.txt
grep -q "4 pictures of data.train in pipe/" pipe.txt
"$wb" browse-dataset exp.conf --num 4 --out raw --not-show-pipeline > /dev/null
/usr/bin/python3 - <<'PY'
import numpy as np
from PIL import Image

def colour(path):
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
    assert a.shape == (128, 128, 3), a.shape
    return (np.abs(a - a.mean(2, keepdims=True)).max(2) > 24).mean()  # pixels far from grey

grey = sum(colour(f"pipe/train_{i:06d}.jpg") for i in range(4)) / 4
raw = sum(colour(f"raw/train_{i:06d}.jpg") for i in range(4)) / 4
print(f"coloured pixels: {grey:.3f} after to_gray (boxes and labels), {raw:.3f} as given")
assert grey < 0.25 * raw, "to_gray from the plugin did not reach the pictures"
PY
sed 's/"blur"/"blurr"/' exp.conf > typo.conf
set +e
"$wb" browse-dataset typo.conf 2> err.txt; rc=$?
"$wb" browse-dataset exp.conf --split dev 2>> err.txt; rc2=$?
set -e
cat err.txt
[ $rc -eq 2 ] && grep -q "unknown transform type 'blurr'" err.txt && grep -q "blur" err.txt
[ $rc2 -eq 2 ] && grep -q -- "--split dev: train, val or test" err.txt
echo "browse-dataset: ok"
