#!/usr/bin/env bash
# workbench print-config: an experiment that includes the tiny config and
# overrides a key, printed with a --set: each value's origin is the file and
# line it was written on (the base's, the experiment's), the --set text, or
# "default"; the printed config is a valid experiment that prints the same
# values again, each now from its own line of the printed file; refusals.
# Under a second.
#   print_config.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
tiny="$src/configs/tiny/center_tiny_synthetic.conf"
cat >"$out/exp.conf" <<EOF2
@include "$tiny"

optimizer = { momentum = 0.8; };
EOF2
"$wb" print-config "$out/exp.conf" --set optimizer.lr=0.01 --set log.interval=4 >"$out/printed.conf"
line_of() { grep -n "$1" "$2" | head -1 | cut -d: -f1; }
expect() { # expect REGEX: a line of the printed config matches it
  grep -qE "$1" "$out/printed.conf" || { echo "no line matches: $1"; cat "$out/printed.conf"; exit 1; }
}
opt_line=$(line_of '^optimizer = ' "$tiny")
expect "^  lr = 0\.01; +# --set optimizer\.lr=0\.01\$"
expect "^  momentum = 0\.8; +# $out/exp\.conf:3\$"
expect "^  weight_decay = 0\.0001; +# $tiny:$opt_line\$"
expect "^  interval = 4; +# --set log\.interval=4\$"
expect "^  tensorboard = true; +# default\$"
expect "^    type = \"tiny_cnn\"; +# $tiny:$(line_of 'backbone = ' "$tiny")\$"
expect "^seed = 0; +# $src/configs/tiny/\.\./_base_/default_runtime\.conf:[0-9]+\$"
echo "origins: the base's lines, the experiment's, --set and defaults"

# the printed config is an experiment: printed again, the values are the same, each from its own line
"$wb" print-config "$out/printed.conf" >"$out/again.conf"
/usr/bin/python3 - "$out/printed.conf" "$out/again.conf" <<'PY'
import re, sys
first, again = (open(p).read().splitlines() for p in sys.argv[1:])
assert len(first) == len(again), (len(first), len(again))
checked = 0
for no, (a, b) in enumerate(zip(first, again), 1):
    if a.startswith("#"):
        continue
    va, _, oa = a.partition("  # ")
    vb, _, ob = b.partition("  # ")
    assert va.rstrip() == vb.rstrip(), (no, a, b)
    if ob:
        assert ob == f"{sys.argv[1]}:{no}", (no, ob)
        checked += 1
assert checked > 40, checked
print(f"printed again: {checked} values equal, each from its own line of the printed file")
PY
. "$(dirname "$0")/expect_fail.sh"
expect_fail 2 "--set optimizer.lrr=0.1" "$out/bad_key.txt" -- "$wb" print-config "$out/exp.conf" --set optimizer.lrr=0.1
expect_fail 2 "unexpected argument 'extra'" "$out/extra.txt" -- "$wb" print-config "$out/exp.conf" extra
"$wb" print-config --help | grep -q "Usage: workbench print-config EXP.conf"
