#!/usr/bin/env bash
# The CUDA backend module on a machine without a GPU: when the build has it,
# libwb_backend_cuda.so exports only its entry points (v1, v2 with amp and
# TF32, v3 with the box family, and its compute stream for the NCCL module) and needs no symbol of
# the core (nor libcudart, which is linked in); backend = "auto" runs on the
# CPU with one log line saying why; backend = "cuda" exits 1 naming the
# missing driver or device; a module that cannot be loaded is named with
# dlopen's message, the toolkit's stub libcuda as such; backend = "cuda:x" is
# a config error (exit 2); amp = bf16 / fp16 and tf32 on cuda get as far as
# the missing device (exit 1), not a refusal of the precision. Exit 77 where a CUDA device answers: the no-device
# paths cannot be seen there.
set -euo pipefail
wb=$1 src=$2 out=$3 module=$4 core_lib=$5 stub=${6:-}
rm -rf "$out" && mkdir -p "$out"
cd "$src"
source tests/e2e/expect_fail.sh
exp=configs/quickstart.conf

"$wb" version >"$out/version.txt"
if grep -q '^cuda: module .*; device ' "$out/version.txt"; then
  grep '^cuda:' "$out/version.txt"; echo "a CUDA device answers: the no-device paths cannot be checked here"; exit 77
fi

if [ -n "$module" ]; then
  echo "== the module: its entry points only, nothing of the core, cudart inside"
  [ -f "$module" ] || { echo "$module was not built"; exit 1; }
  exports=$(nm -D --defined-only "$module" | awk '$2 ~ /^[TDB]$/ {print $3}')
  [ "$(echo $exports)" = "wb_backend_cuda_compute_stream_v1 wb_backend_cuda_open_v1 wb_backend_cuda_open_v2 wb_backend_cuda_open_v3" ] \
    || { echo "exports: $exports"; exit 1; }
  nm -D --undefined-only "$module" | awk '{print $NF}' | sed 's/@.*//' | sort -u >"$out/undefined.txt"
  nm --defined-only "$core_lib" 2>/dev/null | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u >"$out/core.txt"
  [ "$(wc -l <"$out/core.txt")" -gt 300 ] || { echo "no symbols read from $core_lib"; exit 1; }
  if comm -12 "$out/undefined.txt" "$out/core.txt" | grep .; then echo "the module needs the core's symbols above"; exit 1; fi
  if readelf -d "$module" | grep -q 'NEEDED.*libcudart'; then echo "the module links libcudart.so"; exit 1; fi
  grep -q "^cuda: module .*/libwb_backend_cuda.so; no CUDA" "$out/version.txt" || { cat "$out/version.txt"; exit 1; }
  echo "== not loadable: dlopen's reason"
  echo "not a shared object" >"$out/broken.so"
  expect_fail 1 'the CUDA backend module cannot be loaded: ' "$out/broken.txt" -- \
    env WB_CUDA_MODULE="$out/broken.so" "$wb" validate "$exp" --set backend=cuda
  grep -qE 'invalid ELF header|file too short' "$out/broken.txt" || { cat "$out/broken.txt"; exit 1; }
  reason='no CUDA (device|driver)'
  if [ -n "$stub" ]; then
    echo "== the toolkit's stub libcuda in the loader's path: named as such"
    mkdir -p "$out/stub" && ln -sf "$stub" "$out/stub/libcuda.so.1"
    expect_fail 1 "the libcuda.so.1 found is the CUDA toolkit's stub" "$out/stub.txt" -- \
      env LD_LIBRARY_PATH="$out/stub${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$wb" validate "$exp" --set backend=cuda
  fi
else
  grep -q '^cuda: no module in this build' "$out/version.txt" || { cat "$out/version.txt"; exit 1; }
  reason='this build has no CUDA backend module'
fi

echo "== backend = auto: the CPU, with one line saying why"
"$wb" validate "$exp" --set backend=auto >"$out/auto.txt" 2>&1 || { cat "$out/auto.txt"; exit 1; }
[ "$(grep -c 'backend = "auto": .*; running on the CPU' "$out/auto.txt")" = 1 ] || { cat "$out/auto.txt"; exit 1; }
grep -qE "backend = \"auto\": $reason" "$out/auto.txt" || { cat "$out/auto.txt"; exit 1; }
grep -m1 'backend = "auto"' "$out/auto.txt" | cut -c1-200

echo "== backend = cuda, cuda:1: exit 1 with the reason"
for b in cuda cuda:1; do
  expect_fail 1 "error: backend = \"$b\": " "$out/$b.txt" -- "$wb" validate "$exp" --set "backend=$b"
  grep -qE "$reason" "$out/$b.txt" || { cat "$out/$b.txt"; exit 1; }
done

echo "== amp = bf16 / fp16, tf32 on cuda: as far as the device (exit 1), no refusal of the precision"
for set in amp=bf16 amp=fp16 tf32=true; do
  expect_fail 1 'error: backend = "cuda": ' "$out/$set.txt" -- "$wb" validate "$exp" --set backend=cuda --set "$set"
  grep -qE "$reason" "$out/$set.txt" || { cat "$out/$set.txt"; exit 1; }
done

echo "== backend = cuda:x: a config error"
expect_fail 2 'backend = "cuda:x" is not one of: cpu, cuda, auto, cuda:0' "$out/bad.txt" -- \
  "$wb" validate "$exp" --set 'backend="cuda:x"'
