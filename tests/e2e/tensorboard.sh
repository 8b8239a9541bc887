#!/usr/bin/env bash
# TensorBoard event files read back with TensorBoard's own reader: a 2-epoch
# training of the tiny detector writes work_dir/tensorboard/; EventAccumulator
# (which checks every record's masked CRC32C) must find every number of
# log.json as a scalar at its step (train/<key> at the iteration, val/<metric>
# at the epoch), each epoch's train_epoch/<key> as the iteration-weighted mean
# of that epoch's lines, two validations' pictures of predictions as PNGs of
# the validation size, and the effective config as a text summary. About 3 s.
#   tensorboard.sh WORKBENCH SOURCE_DIR SCRATCH_DIR PYTHON
# PYTHON must import tensorboard (scripts/setup.sh installs it); exit 77 (skipped) if it cannot.
set -euo pipefail
wb=$1 src=$2 out=$3 py=$4
if ! "$py" -c "import tensorboard" 2>/dev/null; then
  echo "SKIP: $py cannot import tensorboard (TensorBoard's EventAccumulator reads the files back): run scripts/setup.sh or '$py -m pip install tensorboard'"
  exit 77
fi
rm -rf "$out" && mkdir -p "$out"
cd "$src"
"$wb" run configs/tiny/center_tiny_synthetic.conf --work-dir "$out/run" --threads 1 \
  --set data.train.dataset.num_images=64 --set data.val.dataset.num_images=16 --set schedule.warmup_iters=4 \
  --set schedule.max_epochs=2 --set "schedule.milestones=[1]" --set log.interval=2 >"$out/run.txt" 2>&1 \
  || { cat "$out/run.txt"; exit 1; }
"$py" - "$out/run" <<'PY'
import decimal, glob, json, math, os, struct, sys, zlib
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

run = sys.argv[1]
files = glob.glob(os.path.join(run, "tensorboard", "events.out.tfevents.*"))
assert len(files) == 1, files
acc = EventAccumulator(os.path.join(run, "tensorboard"), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
acc.Reload()
tb = {tag: {e.step: e.value for e in acc.Scalars(tag)} for tag in acc.Tags()["scalars"]}
for tag in tb:
    assert len(tb[tag]) == len(acc.Scalars(tag)), f"{tag}: a step written twice"

# log.json's numbers as printed (Decimal keeps the digits, so the printing's rounding is known exactly)
lines = [json.loads(l, parse_float=decimal.Decimal) for l in open(os.path.join(run, "log.json")) if l.strip()]
per_epoch = 8

def exponent(printed):
    """The last printed digit's power of ten ("%.0f" prints an integer: 0)."""
    return printed.as_tuple().exponent if isinstance(printed, decimal.Decimal) else 0

def close(got, printed, extra=0.0):
    """got: TensorBoard's float32; printed: log.json's text of the same double. The two differ by at most half a
    unit of the last printed digit plus float32's rounding of the double (2^-24 relative)."""
    half_unit = 0.5 * 10.0 ** exponent(printed)
    v = float(printed)
    return abs(got - v) <= half_unit + extra + abs(v) * 2.0 ** -24

skip = {"mode", "epoch", "iter"}
expected_tags, checked = set(), 0
train = [l for l in lines if l["mode"] == "train"]
val = [l for l in lines if l["mode"] == "val"]
assert len(train) == 8 and len(val) == 2, (len(train), len(val))
for l in train:
    step = (l["epoch"] - 1) * per_epoch + l["iter"]
    for key, v in l.items():
        if key in skip: continue
        tag = "train/" + key
        expected_tags.add(tag)
        assert step in tb.get(tag, {}), f"{tag}: no scalar at step {step}"
        assert close(tb[tag][step], v), (tag, step, tb[tag][step], v)
        checked += 1
for l in val:
    for key, v in l.items():
        if key in skip: continue
        tag = key if key.startswith("val/") else "val/" + key
        expected_tags.add(tag)
        assert close(tb[tag][l["epoch"]], v), (tag, l["epoch"], tb[tag].get(l["epoch"]), v)
        checked += 1
# each epoch's means, weighted by the iterations each line covers
for e in (1, 2):
    mine = [l for l in train if l["epoch"] == e]
    weights = [b["iter"] - a for a, b in zip([0] + [l["iter"] for l in mine], mine)]
    for key in (k for k in mine[0] if k not in skip):
        tag = "train_epoch/" + key
        expected_tags.add(tag)
        want = sum(w * float(l[key]) for w, l in zip(weights, mine)) / sum(weights)
        half = max(0.5 * 10.0 ** exponent(l[key]) for l in mine)
        assert close(tb[tag][e], decimal.Decimal(repr(want)), half), (tag, e, tb[tag][e], want)
        checked += 1
assert set(tb) == expected_tags, f"scalars not in log.json: {set(tb) - expected_tags}; missing: {expected_tags - set(tb)}"
for tag in tb:
    n_want = len(train) if tag.startswith("train/") else 2
    assert len(tb[tag]) == n_want, (tag, len(tb[tag]), n_want)
print(f"{checked} TensorBoard scalars equal log.json's numbers ({len(tb)} tags)")

# pictures of predictions: PNGs of the validation size (128 x 128) at both validations, not blank
images = [t for t in acc.Tags()["images"]]
assert images and all(t.startswith("val/prediction_") for t in images), images
for tag in images:
    evs = acc.Images(tag)
    assert [e.step for e in evs] == [1, 2], (tag, [e.step for e in evs])
    for e in evs:
        png = e.encoded_image_string
        assert png[:8] == b"\x89PNG\r\n\x1a\n", tag
        w, h = struct.unpack(">II", png[16:24])  # IHDR
        assert (w, h) == (e.width, e.height) == (128, 128), (tag, w, h, e.width, e.height)
        # IDAT decompressed: varied pixel bytes (a blank picture would be one value after the filter bytes)
        at, idat = 8, b""
        while at < len(png):
            n, kind = struct.unpack(">I4s", png[at:at + 8])
            if kind == b"IDAT": idat += png[at + 8:at + 8 + n]
            at += 12 + n
        assert len(set(zlib.decompress(idat))) > 50, f"{tag}: a blank picture"
print(f"{len(images)} prediction pictures at each of the 2 validations")

meta = acc.SummaryMetadata("config")
assert meta.plugin_data.plugin_name == "text", meta
text = acc.Tensors("config")[0].tensor_proto.string_val[0].decode()
config = open(os.path.join(run, "config.conf")).read()
assert text == "```\n" + config + "\n```", text[:200]
print("the effective config is the text summary 'config'")
PY
