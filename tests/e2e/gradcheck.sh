#!/usr/bin/env bash
# `workbench gradcheck`: the in-tree modules pass; a custom backward that is
# right passes and one that is wrong by a factor 1.5 fails with exit 1.
set -uo pipefail
wb=$1 fixtures=$2
fail=0
expect() {  # expect EXIT_CODE ARGS...
  local want=$1; shift
  "$wb" "$@" >/tmp/wb_gradcheck_out.txt 2>&1
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAILED: workbench $* exited $got, expected $want"; cat /tmp/wb_gradcheck_out.txt; fail=1
  else
    echo "ok: workbench $* -> $got"
  fi
}
expect 0 gradcheck tiny_cnn --set "widths=[8, 16]"
expect 0 gradcheck tiny_cnn --set "widths=[8, 16]" --set frozen_bn=true
expect 0 gradcheck center_head --set num_classes=3
expect 0 --plugin-dir "$fixtures" gradcheck custom_relu --set factor=1.0
expect 1 --plugin-dir "$fixtures" gradcheck custom_relu
grep -q "FAIL d/d c3" /tmp/wb_gradcheck_out.txt || { echo "FAILED: no failing probe named for input c3"; fail=1; }
expect 2 gradcheck no_such_module
[ $fail = 0 ] && echo "6 passed, 0 failed"
exit $fail
