#!/usr/bin/env bash
# The whole test suite: the release build's tests, the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer in ./build-asan, then every
# libFuzzer harness for a bounded time (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== tests (release build)"
(cd build && ctest -j"$jobs" --output-on-failure)

echo "== tests under ASan + UBSan"
# Without the CUDA module: nvcc's time buys nothing the sanitizers check (they do not see device code); the
# kernels' shared math is plain C and its host-run tests (test_cuda_*) run here too.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWB_SANITIZE=ON -DWB_WERROR=ON -DWB_CUDA=OFF >/dev/null
cmake --build build-asan -j"$jobs"
# oneDNN's JIT and OpenMP runtime keep allocations for the process lifetime.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The long learnability run (label "long") adds nothing the other end-to-end runs do not
# already show the sanitizers.
(cd build-asan && ctest -j"$jobs" --output-on-failure --timeout 900 -LE long)

echo "== fuzzing (libFuzzer, ${WB_FUZZ_SECONDS:-45} s per harness)"
bash scripts/fuzz.sh
