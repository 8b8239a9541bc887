#!/usr/bin/env bash
# The CUDA backend on a GPU machine, in at most 8 minutes: builds with WB_CUDA=ON, runs the `gpu` ctest label
# (the backend conformance on cuda:0), then times RetinaNet R-50-FPN (91 classes, batch 8, 768x1280) training
# and inference, fp32 and bf16, in workbench and in torchvision on the same GPU, one after the other, and
# prints ours / torch (below 1.0: we are faster; the issue's goals: training <= 1.0, inference <= 0.8).
#
# The GPU machine is assumed to have nvcc (with cuBLAS and cuDNN), CMake, a C compiler and PyTorch 2.x with
# CUDA, but none of the Debian -dev packages the build needs, and no network. Bring them: on a machine of the
# same distribution with apt, `bench/gpu/pack_deps.sh DEPS` unpacks them (dpkg -x) into DEPS/root; carry DEPS
# and pass --deps DEPS here. Without --deps the system's packages are used.
#   bench/gpu/run.sh [--deps DEPS] [--build DIR] [--iters N] [--dry-run]
# --dry-run: configure only (no GPU needed) and print the commands the GPU steps would run.
set -euo pipefail
cd "$(dirname "$0")/../.."
deps="" build=build-gpu iters=10 dry=0
while [ $# -gt 0 ]; do
  case $1 in
    --deps) deps=$(cd "$2" && pwd); shift 2 ;;
    --build) build=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --dry-run) dry=1; shift ;;
    *) echo "usage: bench/gpu/run.sh [--deps DEPS] [--build DIR] [--iters N] [--dry-run]" >&2; exit 2 ;;
  esac
done
start=$SECONDS
step() { echo "== [$((SECONDS - start)) s] $*"; }

if [ -n "$deps" ]; then
  root=$deps/root
  [ -d "$root/usr" ] || { echo "$root/usr is missing: unpack the packages with bench/gpu/pack_deps.sh" >&2; exit 2; }
  multiarch=x86_64-linux-gnu
  export PATH="$root/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$root/usr/lib/$multiarch:$root/lib/$multiarch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # The .pc files say prefix=/usr: the sysroot puts $root in front of their -I and -L.
  export PKG_CONFIG_SYSROOT_DIR=$root
  export PKG_CONFIG_LIBDIR="$root/usr/lib/$multiarch/pkgconfig:$root/usr/share/pkgconfig"
  export CMAKE_PREFIX_PATH="$root/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
fi
for tool in nvcc cmake pkg-config protoc-c; do
  command -v "$tool" >/dev/null || { echo "$tool not found (PATH=$PATH)" >&2; exit 2; }
done

step "configure $build (WB_CUDA=ON)"
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWB_CUDA=ON -DWB_TESTS=ON >"$build/configure.log" 2>&1 ||
  { tail -30 "$build/configure.log"; exit 1; }
grep -F 'CUDA backend module:' "$build/configure.log"
plugins=(wb_backbone_resnet wb_neck_fpn wb_head_retina_head wb_loss_basic)
build_cmd=(cmake --build "$build" -j"$(nproc)" --target workbench wb_backend_cuda backend_conformance "${plugins[@]}")
exp=configs/retinanet/retinanet_r50_fpn_1x_coco.conf
# cmd=(...) for one timed run: ours|torch, train|infer, none|bf16.
set_cmd() {
  if [ "$1" = ours ]; then
    cmd=("$build/bin/workbench" bench "$exp" --set backend=cuda --set model.head.num_classes=91 --set "amp=$3"
         --size 1280x768 --batch 8 --iters "$iters")
    [ "$2" = infer ] && cmd+=(--inference)
  else
    cmd=(python3 bench/gpu/torch_retinanet_cuda.py --mode "$2" --amp "$3" --batch 8 --iters "$iters")
  fi
  return 0
}
if [ "$dry" = 1 ]; then
  step "dry run: the GPU steps would be"
  echo "${build_cmd[*]}"
  echo "(cd $build && ctest -L gpu --output-on-failure)"
  for mode in train infer; do for amp in none bf16; do for side in ours torch; do
    set_cmd $side $mode $amp && echo "${cmd[*]}"
  done; done; done
  exit 0
fi

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c 'import torch; assert torch.cuda.is_available(), "torch sees no GPU"; print("torch", torch.__version__)'
step "build"
"${build_cmd[@]}" >"$build/build.log" 2>&1 || { tail -40 "$build/build.log"; exit 1; }
step "conformance on cuda:0 (ctest -L gpu)"
conformance=passed
(cd "$build" && timeout 120 ctest -L gpu --output-on-failure) || conformance=FAILED

declare -A ms
for mode in train infer; do
  for amp in none bf16; do
    for side in ours torch; do
      ms[$side.$mode.$amp]=-
      # Past 7 minutes what is left is skipped, so the whole run stays within 8.
      [ $((SECONDS - start)) -lt 420 ] || { step "$side $mode $amp: skipped (time)"; continue; }
      step "$side: $mode, amp $amp"
      set_cmd $side $mode $amp
      if out=$(timeout 60 "${cmd[@]}" 2>&1); then
        ms[$side.$mode.$amp]=$(echo "$out" | sed -n 's/.*median\(_ms\)\{0,1\} \([0-9.]*\).*/\2/p' | head -1)
      else
        echo "$out" | tail -3
      fi
    done
  done
done

step "results (median ms per iteration of 8 images at 768x1280, $iters iterations)"
printf '%-7s %-5s %10s %10s %8s %6s\n' mode amp ours_ms torch_ms ratio goal
for mode in train infer; do
  goal=1.0; [ $mode = infer ] && goal=0.8
  for amp in none bf16; do
    o=${ms[ours.$mode.$amp]} t=${ms[torch.$mode.$amp]} r=-
    [ "$o" != - ] && [ "$t" != - ] && r=$(awk -v o="$o" -v t="$t" 'BEGIN {printf "%.2f", o / t}')
    printf '%-7s %-5s %10s %10s %8s %6s\n' "$mode" "$amp" "$o" "$t" "$r" "<= $goal"
  done
done
echo "conformance (ctest -L gpu): $conformance; total $((SECONDS - start)) s"
