#!/usr/bin/env bash
# Multi-GPU training's pieces on a machine without a GPU. When the build has
# libwb_dist_nccl.so: it exports only its entry point and needs no symbol of
# the core, no MPI (the NCCL id travels by the MPI module's broadcast) and no
# libcudart.so (linked in); opened as rank 1 it refuses naming the rank and
# cudaSetDevice before any collective. Under mpirun, backend = "cuda" ends the
# 2-rank job with exit 1 within 30 s, the reason (no driver, no device, no
# module) and the failing rank named, no rank left waiting. Exit 77 where a
# CUDA device answers (the no-device path cannot be seen there) or without
# mpirun.
set -euo pipefail
wb=$1 src=$2 out=$3 module=$4 core_lib=$5
rm -rf "$out" && mkdir -p "$out"
cd "$src"

"$wb" version >"$out/version.txt"
if grep -q '^cuda: module .*; device ' "$out/version.txt"; then
  grep '^cuda:' "$out/version.txt"; echo "a CUDA device answers: the no-device path cannot be checked here"; exit 77
fi

if [ -n "$module" ]; then
  echo "== the NCCL module: one exported symbol, nothing of the core, no MPI, cudart inside"
  [ -f "$module" ] || { echo "$module was not built"; exit 1; }
  exports=$(nm -D --defined-only "$module" | awk '$2 ~ /^[TDB]$/ {print $3}')
  [ "$exports" = "wb_dist_nccl_open" ] || { echo "exports: $exports"; exit 1; }
  nm -D --undefined-only "$module" | awk '{print $NF}' | sed 's/@.*//' | sort -u >"$out/undefined.txt"
  grep -qx ncclAllReduce "$out/undefined.txt" || { echo "the module does not call ncclAllReduce"; exit 1; }
  nm --defined-only "$core_lib" 2>/dev/null | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u >"$out/core.txt"
  [ "$(wc -l <"$out/core.txt")" -gt 300 ] || { echo "no symbols read from $core_lib"; exit 1; }
  if comm -12 "$out/undefined.txt" "$out/core.txt" | grep .; then echo "the module needs the core's symbols above"; exit 1; fi
  if grep '^P\?MPI_' "$out/undefined.txt"; then echo "the module calls MPI itself"; exit 1; fi
  if readelf -d "$module" | grep -E 'NEEDED.*(libcudart|libmpi)'; then echo "the module links the above"; exit 1; fi
  echo "== opened as rank 1 without a GPU: refused naming the rank, before any collective"
  cc -std=gnu11 -Wall -Werror -I core -I sdk/include tests/e2e/mpi_nccl/open_without_gpu.c -o "$out/open_without_gpu" -ldl
  "$out/open_without_gpu" "$module" >"$out/open.txt" 2>&1 || { cat "$out/open.txt"; exit 1; }
  cat "$out/open.txt"
fi

. "$(dirname "$0")/mpi_common.sh"
echo "== mpirun -np 2, backend = cuda without a GPU: exit 1 naming the rank and the reason"
rc=0
started=$(date +%s)
timeout 60 mpirun --oversubscribe --bind-to none -np 2 "$wb" run "${tiny[@]}" --set backend=cuda \
  --work-dir "$out/job" >"$out/job.txt" 2>&1 || rc=$?
took=$(( $(date +%s) - started ))
[ "$rc" = 1 ] || { cat "$out/job.txt"; echo "exit $rc, expected 1"; exit 1; }
[ "$took" -lt 30 ] || { cat "$out/job.txt"; echo "the job took $took s to end"; exit 1; }
grep -qE 'error: backend = "cuda": (no CUDA (device|driver)|this build has no CUDA backend module|.*stub)' \
  "$out/job.txt" || { cat "$out/job.txt"; exit 1; }
grep -qE 'ERROR rank [01] of 2 ends with exit code 1, and with it the job' "$out/job.txt" \
  || { cat "$out/job.txt"; exit 1; }
grep -m1 'error: backend' "$out/job.txt" | cut -c1-160
grep -m1 'ERROR rank' "$out/job.txt"
echo "ok (ended in $took s)"
