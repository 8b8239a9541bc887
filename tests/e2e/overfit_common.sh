# Sourced by the overfit_*_bccd.sh learnability tests: the eight BCCD training
# images they overfit, the data section of their configs, the training run and
# the check of the last validation. The caller sets wb, src and out (its
# arguments WORKBENCH SOURCE_DIR SCRATCH_DIR) and `set -euo pipefail`.

shared="$src/../shared/datasets/bccd"
# The 320x240 resize the R-CNN-family tests train and validate at.
bccd_pipeline='( { type = "resize"; scale = [320, 240]; keep_ratio = true; },
    { type = "normalize"; mean = [123.675, 116.28, 103.53]; std = [58.395, 57.12, 57.375]; to_rgb = true; },
    { type = "pad"; size_divisor = 32; } )'

# overfit_prepare MISSING_RC: a fresh $out holding eight.txt, the split of the
# first eight training images; exits MISSING_RC (77 = skipped) without ../shared.
overfit_prepare() {
    if [ ! -d "$shared" ]; then
        echo "$([ "$1" = 77 ] && echo SKIPPED || echo FAILED): no shared BCCD at $shared (../shared must be beside the checkout)"
        exit "$1"
    fi
    rm -rf "$out" && mkdir -p "$out"
    head -8 "$shared/ImageSets/Main/train.txt" > "$out/eight.txt"
}

# overfit_data PIPELINE [BATCH_SIZE]: the config's data section, training and
# validating on the same eight images.
overfit_data() {
    echo 'data = {'
    echo "  data_root = \"$shared\";"
    [ -z "${2:-}" ] || echo "  batch_size = $2;"
    echo "  train = { dataset = { split = \"$out/eight.txt\"; }; pipeline = $1; };"
    echo "  val = { dataset = { split = \"$out/eight.txt\"; }; pipeline = $1; };"
    echo '};'
}

# overfit_train [WORKBENCH OPTIONS...]: trains $out/overfit.conf; prints the
# run's output and exits 1 when it fails.
overfit_train() {
    "$wb" "$@" run "$out/overfit.conf" >"$out/run.txt" 2>&1 || { cat "$out/run.txt"; exit 1; }
}

# overfit_check MODEL ITERS METRIC [KEY...]: prints METRIC (and the other KEYs)
# of every validation in the run's log and asserts the last METRIC >= 0.9.
overfit_check() {
    /usr/bin/python3 - "$out/work/log.json" "$@" <<'PY'
import json, sys
log, model, iters, metric, keys = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
vals = [json.loads(l) for l in open(log) if '"val"' in l]
assert vals, "no validation ran"
for v in vals:
    print(f"iteration {v.get('iter')}: " + ", ".join(f"{k} {v[k]:.4f}" for k in [metric] + keys))
m = vals[-1][metric]
assert m >= 0.9, f"{model} did not overfit 8 BCCD images to {metric} >= 0.9 within {iters} iterations"
PY
    echo "1 passed, 0 failed"
}
