#!/usr/bin/env bash
# Installs everything workbench needs on Debian 12 (run as root), then builds
# it into ./build. Safe to run again: apt and cmake skip what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git
  libconfig-dev libdnnl-dev libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libexpat1-dev libyaml-dev libcjson-dev
  libpango1.0-dev libcairo2-dev fonts-dejavu-core fonts-noto-cjk
  check
  clang libclang-rt-14-dev
  python3-torch python3-torchvision python3-numpy python3-pil
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# pycocotools is the reference the COCO evaluation tests compare against.
if ! python3 -c "import pycocotools" 2>/dev/null; then
  echo "== installing pycocotools (pip)"
  python3 -m pip install -q pycocotools
fi

echo "== building workbench in ./build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWB_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
echo "== built: ./build/bin/workbench"
