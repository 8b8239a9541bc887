#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) into ./build-fuzz and runs
# each one for a bounded time on its seed corpus (tests/fuzz/corpus/NAME/), two
# at a time. Every corpus file is replayed first, so a crash once found and kept
# there stays a regression test. New crashes are left in $build/crashes/.
#   WB_FUZZ_SECONDS  time per harness (default 45)
#   WB_FUZZ_BUILD    build folder (default build-fuzz)
#   usage: scripts/fuzz.sh [NAME...]   (default: every harness)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${WB_FUZZ_SECONDS:-45}
build=${WB_FUZZ_BUILD:-build-fuzz}
jobs=$(nproc)

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWB_FUZZ=ON >/dev/null
cmake --build "$build" -j"$jobs"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .c); names+=("${n#fuzz_}")
  done
fi
if [ ${#names[@]} -eq 0 ]; then echo "no harness in tests/fuzz/"; exit 0; fi
mkdir -p $build/crashes $build/runs
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_one() {
  local name=$1 work=$build/runs/$1
  rm -rf "$work" && mkdir -p "$work/new"
  mkdir -p "tests/fuzz/corpus/$name"
  # New inputs go to $work/new; the committed corpus is only read.
  $build/bin/fuzz/fuzz_"$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/crashes/$name-" \
    "$work/new" "tests/fuzz/corpus/$name" >"$work/log.txt" 2>&1
}

pids=() running=()
for name in "${names[@]}"; do
  run_one "$name" & pids+=($!) running+=("$name")
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || true
    pids=("${pids[@]:1}") running=("${running[@]:1}")
  fi
done
wait || true

passed=0 failed=0
printf '%-16s %12s %10s %s\n' harness executions exec/s result
for name in "${names[@]}"; do
  log=$build/runs/$name/log.txt
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if grep -q "^Done \|^stat::number_of_executed_units" "$log" && ! grep -qE "ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:|SUMMARY: " "$log"; then
    result=ok
  else
    result=FAILED
  fi
  if [ "$result" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  printf '%-16s %12s %10s %s\n' "$name" "${execs:-?}" "${rate:-?}" "$result"
  if [ "$result" != ok ]; then
    echo "---- $log (last 60 lines); reproduce: $build/bin/fuzz/fuzz_$name $build/crashes/$name-*"
    tail -60 "$log"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
