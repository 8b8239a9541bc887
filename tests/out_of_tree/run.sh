#!/bin/sh
# Installs workbench to a temporary prefix and, from that installation only:
# builds the minimal example (pkg-config and find_package) and the four
# example plugins (neck, loss, dataset, head) from the installed copy under
# share/workbench/examples; checks the installed `workbench plugins` ACCEPTS
# them, `describe` and `gradcheck` each, and trains a few iterations with all
# four on the synthetic dataset and on a generated CSV dataset. Then
# `workbench new-plugin` writes a skeleton of every kind, each builds with
# -Werror and its own test.sh finds it ACCEPTED, described and gradchecked
# (the transform: run by browse-dataset on synthetic samples, which it inverts);
# a NAME that is no C identifier and a non-empty DIR are refused.
# Usage: run.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "out_of_tree: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "install failed"; }
for f in bin/workbench include/workbench/workbench.h lib/pkgconfig/workbench.pc \
         lib/cmake/workbench/workbench-config.cmake lib/cmake/workbench/wb_add_plugin.cmake \
         share/doc/workbench/README.md share/doc/workbench/writing-a-plugin.md share/doc/workbench/architecture.md \
         share/doc/workbench/config-reference.md share/workbench/examples/out_of_tree_plugin/scale_neck.c \
         share/workbench/examples/plugins/CMakeLists.txt share/workbench/examples/plugins/head/tp_fcos_lite.c; do
    [ -e "$prefix/$f" ] || fail "the install lacks $f"
done
[ -d "$prefix/lib/workbench/plugins" ] || fail "the install lacks lib/workbench/plugins/"
wb=$prefix/bin/workbench
examples=$prefix/share/workbench/examples
unset WB_PLUGIN_PATH

# 1. pkg-config: the include dir and the C standard; the minimal example builds with -Werror.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cflags=$(pkg-config --cflags workbench)
include_dir=$(echo "$cflags" | tr ' ' '\n' | sed -n 's/^-I//p')
[ "$(realpath "$include_dir")" = "$(realpath "$prefix/include")" ] || fail "pkg-config Cflags '$cflags' lack -I$prefix/include"
echo "$cflags" | grep -q -- "-std=gnu11" || fail "pkg-config Cflags '$cflags' do not state the C standard (-std=gnu11)"
[ "$(realpath "$(pkg-config --variable=plugindir workbench)")" = "$(realpath "$prefix/lib/workbench/plugins")" ] \
    || fail "pkg-config plugindir is $(pkg-config --variable=plugindir workbench)"
mkdir "$tmp/pc"
cc -O2 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden -Wl,-z,defs $cflags \
    "$examples/out_of_tree_plugin/scale_neck.c" -o "$tmp/pc/scale_neck.so" $(pkg-config --libs workbench)
out=$(WB_PLUGIN_PATH="$tmp/pc" "$wb" plugins)
echo "$out" | grep -q "ACCEPTED  $tmp/pc/scale_neck.so  (scale_neck 0.1.0" || { echo "$out"; fail "pkg-config build was not ACCEPTED"; }
echo "$out" | grep -q "neck  *scale_neck " || fail "module scale_neck is not listed"
WB_PLUGIN_PATH="$tmp/pc" "$wb" describe scale_neck >/dev/null || fail "describe scale_neck failed"

# 2. find_package(workbench): the minimal example, and the four examples in one
#    build (verbose, to see wb_add_plugin's default warnings on the compile lines).
cmake -S "$examples/out_of_tree_plugin" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cm.log" 2>&1 \
    && cmake --build "$tmp/cm" >>"$tmp/cm.log" 2>&1 || { cat "$tmp/cm.log"; fail "building the minimal example failed"; }
WB_PLUGIN_PATH="$tmp/cm/plugins" "$wb" plugins | grep -q "ACCEPTED  $tmp/cm/plugins/scale_neck.so" \
    || fail "CMake build was not ACCEPTED"
cmake -S "$examples/plugins" -B "$tmp/ex" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS=-Werror >"$tmp/ex.log" 2>&1 \
    && cmake --build "$tmp/ex" -j2 -- VERBOSE=1 >>"$tmp/ex.log" 2>&1 || { cat "$tmp/ex.log"; fail "building the examples failed"; }
grep -q -- "-Wall -Wextra.*tp_pafpn.c" "$tmp/ex.log" || { cat "$tmp/ex.log"; fail "wb_add_plugin did not compile with -Wall -Wextra"; }
export WB_PLUGIN_PATH="$tmp/ex/plugins"
out=$("$wb" plugins)
for p in tp_pafpn tp_varifocal_loss tp_csv tp_fcos_lite tp_solarize; do
    echo "$out" | grep -q "ACCEPTED  $tmp/ex/plugins/$p.so  ($p 0.1.0" || { echo "$out"; fail "$p.so was not ACCEPTED"; }
    "$wb" describe $p >"$tmp/describe.txt" || { cat "$tmp/describe.txt"; fail "describe $p failed"; }
done
"$wb" describe tp_csv | grep -q "get(): safe on several threads" || fail "describe tp_csv does not show its thread-safe get"
"$wb" describe tp_solarize | grep -q "^transform 'tp_solarize'" || fail "describe tp_solarize does not show a transform"

# 3. Train with all four: on the synthetic dataset, and on CSV data through tp_csv and data.data_root.
#    The loss must fall on the synthetic data; the CSV run must see the file's three classes.
"$wb" run "$examples/plugins/tp_synthetic.conf" --work-dir "$tmp/syn" --set schedule.max_iters=16 \
    --set 'schedule.warmup="none"' --set log.interval=4 --set evaluation.interval=16 >"$tmp/syn.log" 2>&1 || { cat "$tmp/syn.log"; fail "training on synthetic data failed"; }
/usr/bin/python3 - "$tmp/syn/log.json" <<'PY' || fail "training with the example plugins did not learn"
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
train = [r for r in rows if r.get("mode") == "train"]
val = [r for r in rows if r.get("mode") == "val"]
assert len(train) == 4 and len(val) == 1, f"{len(train)} train and {len(val)} val lines"
assert all(math.isfinite(r["loss"]) for r in train)
first, last = train[0]["loss_cls"], train[-1]["loss_cls"]
print(f"out_of_tree: synthetic, loss_cls {first:.3f} -> {last:.3f}")
assert last < 0.8 * first, f"loss_cls went from {first} to {last}"
PY
/usr/bin/python3 "$examples/plugins/dataset/make_csv_data.py" "$tmp/csv" 8 4
"$wb" check "$examples/plugins/tp_csv.conf" --set data.data_root="$tmp/csv" >"$tmp/check.log" 2>&1 \
    || { cat "$tmp/check.log"; fail "workbench check of the CSV dataset failed"; }
"$wb" run "$examples/plugins/tp_csv.conf" --set data.data_root="$tmp/csv" --work-dir "$tmp/csvrun" \
    --set schedule.max_iters=4 --set log.interval=2 --set evaluation.interval=4 >"$tmp/csvrun.log" 2>&1 \
    || { cat "$tmp/csvrun.log"; fail "training on CSV data failed"; }
for c in ellipse rectangle triangle; do
    grep -q "  $c " "$tmp/csvrun.log" || { cat "$tmp/csvrun.log"; fail "the CSV run's evaluation does not list class $c"; }
done

# 4. Each module's backward against finite differences (gradcheck of heads with loss
#    sub-modules, of losses and --quick: the conformance kit of the same issue).
"$wb" gradcheck tp_pafpn --quick >"$tmp/gc.txt" 2>&1 || { cat "$tmp/gc.txt"; fail "gradcheck tp_pafpn failed"; }
"$wb" gradcheck tp_varifocal_loss >"$tmp/gc.txt" 2>&1 || { cat "$tmp/gc.txt"; fail "gradcheck tp_varifocal_loss failed"; }
"$wb" gradcheck tp_fcos_lite --quick --set num_classes=3 --set loss_cls.type=tp_varifocal_loss \
    >"$tmp/gc.txt" 2>&1 || { cat "$tmp/gc.txt"; fail "gradcheck tp_fcos_lite failed"; }
grep -q "PASS loss() returns 2 finite term(s)" "$tmp/gc.txt" || { cat "$tmp/gc.txt"; fail "gradcheck did not check tp_fcos_lite's loss()"; }

# 5. Skeletons from `workbench new-plugin`: built by their own test.sh against this installation.
unset WB_PLUGIN_PATH
mkdir "$tmp/new"
for kind in backbone neck head loss dataset transform; do
    (cd "$tmp/new" && "$wb" new-plugin --kind $kind my_$kind >/dev/null) || fail "new-plugin --kind $kind failed"
    CFLAGS=-Werror WORKBENCH="$wb" sh "$tmp/new/my_$kind/test.sh" >"$tmp/new/$kind.log" 2>&1 \
        || { cat "$tmp/new/$kind.log"; fail "the $kind skeleton's test.sh failed"; }
    grep -q "ACCEPTED  $tmp/new/my_$kind/build/plugins/my_$kind.so  (my_$kind 0.1.0" "$tmp/new/$kind.log" \
        || { cat "$tmp/new/$kind.log"; fail "the $kind skeleton was not ACCEPTED"; }
    grep -q "^$kind 'my_$kind': " "$tmp/new/$kind.log" || { cat "$tmp/new/$kind.log"; fail "describe my_$kind failed"; }
done
grep -q "gradcheck passed: my_head" "$tmp/new/head.log" || fail "the head skeleton was not gradchecked"
grep -q "4 pictures of data.train in build/pictures" "$tmp/new/transform.log" \
    || { cat "$tmp/new/transform.log"; fail "the transform skeleton did not run in a pipeline"; }
(cd "$tmp/new/my_transform" && WB_PLUGIN_PATH="$PWD/build/plugins" "$wb" browse-dataset build/pipeline.conf --num 1 --out plain --not-show-pipeline \
    >/dev/null) || fail "browse-dataset --not-show-pipeline failed"
/usr/bin/python3 - "$tmp/new/my_transform" <<'PY' || fail "the transform skeleton did not invert the pictures"
import sys
import numpy as np
from PIL import Image
d = sys.argv[1]
plain = np.asarray(Image.open(f"{d}/plain/train_000000.jpg").convert("RGB"), dtype=np.float64)
piped = np.asarray(Image.open(f"{d}/build/pictures/train_000000.jpg").convert("RGB"), dtype=np.float64)
# JPEG and the drawn boxes aside, the pipeline's picture is 255 minus the plain one
err = np.median(np.abs(piped - (255 - plain)))
print(f"out_of_tree: transform skeleton, median |inverted - expected| = {err:.1f} grey levels")
assert err <= 4, err
PY
refused() { # EXPECTED_MESSAGE ARGS...: exit status 2 and the message on stderr
    expected=$1; shift
    if (cd "$tmp/new" && "$wb" new-plugin "$@") >"$tmp/new/out.txt" 2>"$tmp/new/err.txt"; then
        fail "new-plugin $* was accepted"
    else
        rc=$?
    fi
    [ $rc -eq 2 ] || fail "new-plugin $*: exit status $rc, expected 2"
    grep -qF "$expected" "$tmp/new/err.txt" || { cat "$tmp/new/err.txt"; fail "new-plugin $*: no '$expected'"; }
}
refused "NAME '2fast' is not a C identifier" --kind neck 2fast
refused "NAME 'my-neck' is not a C identifier" --kind neck my-neck
refused "my_neck exists and is not empty; nothing was written" --kind neck other my_neck
refused "unknown kind 'augment'; choose backbone, neck, head, loss, dataset or transform" --kind augment t
[ ! -e "$tmp/new/2fast" ] && [ ! -e "$tmp/new/my-neck" ] || fail "a refused new-plugin left a folder behind"
echo "out_of_tree: OK"
