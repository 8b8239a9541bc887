#!/usr/bin/env bash
# workbench publish on the checkpoint of a short tiny training with EMA:
# the file's name holds the first 8 hex digits of its SHA-256; it keeps every
# weight (the EMA averages, bit for bit; --raw-weights: the raw ones; --fp16:
# numpy's float16 of them, bit for bit) and the class metadata, and drops the
# optimizer state and the trainer state; eval of the raw-weight file writes the
# very detections of eval of the checkpoint; load_from takes the fp16 file and
# --resume refuses it; a weight float16 cannot hold is refused. About 3 s.
#   publish.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$src"
small=(--threads 1 --set data.train.dataset.num_images=64 --set data.val.dataset.num_images=16
       --set schedule.warmup_iters=4)
"$wb" run configs/tiny/center_tiny_synthetic.conf "${small[@]}" --work-dir "$out/run" --set schedule.max_epochs=1 \
  --set ema.enable=true >"$out/run.txt" 2>&1 || { cat "$out/run.txt"; exit 1; }
ckpt="$out/run/epoch_1.safetensors"
"$wb" publish "$ckpt" "$out/pub.safetensors" >"$out/pub.txt"
"$wb" publish "$ckpt" "$out/pub16" --fp16 >"$out/pub16.txt"
"$wb" publish "$ckpt" "$out/raw" --raw-weights >"$out/raw.txt"
cat "$out/pub.txt"
pub=$(tail -1 "$out/pub.txt") pub16=$(tail -1 "$out/pub16.txt") raw=$(tail -1 "$out/raw.txt")
/usr/bin/python3 - "$ckpt" "$pub" "$pub16" "$raw" <<'PY'
import hashlib, json, os, re, struct, sys
import numpy as np

def read(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    dt = {"F32": np.float32, "F16": np.float16}
    tensors = {k: np.frombuffer(body[v["data_offsets"][0]:v["data_offsets"][1]], dt[v["dtype"]]).reshape(v["shape"])
               for k, v in header.items()}
    return tensors, meta, {k: v["dtype"] for k, v in header.items()}

ckpt, pub, pub16, raw = sys.argv[1:]
src, src_meta, _ = read(ckpt)
trainer = {"iteration", "epoch", "epoch_iteration", "world_size", "best_score", "best_checkpoint",
           "optimizer_steps", "ema_steps"}
assert trainer & set(src_meta) >= {"iteration", "epoch", "optimizer_steps", "ema_steps"}, src_meta.keys()
weights = [k for k in src if "::" not in k and not k.startswith("ema.")]
assert any("::" in k for k in src) and any(k.startswith("ema.") for k in src)
ema_names = [k for k in weights if "ema." + k in src]
assert len(ema_names) > 10, len(ema_names)
for path, want_dtype in ((pub, "F32"), (pub16, "F16"), (raw, "F32")):
    name = os.path.basename(path)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    assert re.fullmatch(r"(pub|pub16|raw)-[0-9a-f]{8}\.safetensors", name) and name[-20:-12] == digest[:8], (name, digest)
    t, meta, dtypes = read(path)
    assert sorted(t) == sorted(weights), set(t) ^ set(weights)
    assert set(dtypes.values()) == {want_dtype}, set(dtypes.values())
    assert meta == {k: v for k, v in src_meta.items() if k not in trainer}, (meta.keys(), src_meta.keys())
    for k in weights:
        want = src["ema." + k] if path != raw and "ema." + k in src else src[k]
        if want_dtype == "F16":
            assert np.array_equal(t[k].view(np.uint16), want.astype(np.float16).view(np.uint16)), k
        else:
            assert np.array_equal(t[k].view(np.uint32), want.view(np.uint32)), k
    print(f"{name}: sha256 {digest[:8]}..., {len(t)} {want_dtype} weights, {os.path.getsize(path)} bytes "
          f"(the checkpoint: {os.path.getsize(ckpt)})")
print(f"{len(ema_names)} weights are the EMA averages, bit for bit; fp16 is numpy's float16 of them")
PY
# a score threshold low enough that the barely trained model keeps detections (100 an image) to compare
evalset=(--threads 1 --set data.val.dataset.num_images=16 --set model.head.score_thr=0.001)
"$wb" eval configs/tiny/center_tiny_synthetic.conf "$ckpt" "${evalset[@]}" --out "$out/ckpt.json" >"$out/e1.txt" 2>&1
"$wb" eval configs/tiny/center_tiny_synthetic.conf "$raw" "${evalset[@]}" --out "$out/raw.json" >"$out/e2.txt" 2>&1
"$wb" eval configs/tiny/center_tiny_synthetic.conf "$pub16" "${evalset[@]}" --out "$out/pub16.json" >"$out/e3.txt" 2>&1
cmp "$out/ckpt.json" "$out/raw.json"
grep -q "bbox_mAP: [0-9.]* (16 images, 1600 detections)" "$out/e2.txt"
grep -q "bbox_mAP: [0-9.]* (16 images, 1600 detections)" "$out/e3.txt"
echo "eval: the raw-weight file gives the checkpoint's 1600 detections byte for byte; the fp16 file evaluates"
"$wb" run configs/tiny/center_tiny_synthetic.conf "${small[@]}" --work-dir "$out/loaded" --set schedule.max_epochs=1 \
  --set data.train.dataset.num_images=8 --set "load_from=\"$pub16\"" >"$out/load.txt" 2>&1 || { cat "$out/load.txt"; exit 1; }
grep -qE "\[load_from\] .*: [0-9]+ parameters loaded, 0 missing, 0 unexpected, 0 shape mismatched" "$out/load.txt"
grep -qE "\[load_from\] [0-9]+ of them stored as F16 / BF16 in the file, widened to float32" "$out/load.txt"
. "$src/tests/e2e/expect_fail.sh"
expect_fail 1 "a weights-only file? use load_from instead of --resume" "$out/resume.txt" -- \
  "$wb" run configs/tiny/center_tiny_synthetic.conf "${small[@]}" --work-dir "$out/resumed" --resume "$pub"
# a weight beyond float16's range
/usr/bin/python3 - "$out/big.safetensors" <<'PY'
import json, struct, sys
header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
header += b" " * (-len(header) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1.0, 70000.0))
PY
expect_fail 1 "big.safetensors: w[1] = 70000 does not fit in float16 (at most 65504); leave out --fp16" \
  "$out/big.txt" -- "$wb" publish "$out/big.safetensors" "$out/big_pub" --fp16
test -z "$(ls "$out" | grep big_pub)" || { echo "a refused publish left a file"; exit 1; }
expect_fail 2 "name the checkpoint and the output (CHECKPOINT OUT)" "$out/usage.txt" -- "$wb" publish "$ckpt"
"$wb" publish --help | grep -q "Usage: workbench publish CHECKPOINT OUT"
