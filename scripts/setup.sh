#!/usr/bin/env bash
# Installs everything workbench needs on Debian 12 (run as root), then builds
# it into ./build. Safe to run again: apt and cmake skip what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git
  libconfig-dev libdnnl-dev libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libtiff-dev libwebp-dev libstb-dev libexpat1-dev libyaml-dev libcjson-dev
  libpango1.0-dev libcairo2-dev fonts-dejavu-core fonts-noto-cjk
  libprotobuf-c-dev protobuf-c-compiler libisal-dev libssl-dev
  check
  clang libclang-rt-14-dev
  # multi-process training (mpirun -np N workbench run): the optional libwb_dist_mpi module
  openmpi-bin libopenmpi-dev
  python3-torch python3-torchvision python3-numpy python3-pil
  # what YOLOv5's code (the yolov5 package of the parity tests) imports
  python3-venv python3-yaml python3-requests python3-psutil python3-tqdm python3-pandas python3-opencv
  python3-matplotlib python3-seaborn python3-ipython python3-scipy
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

# TensorBoard's own reader (EventAccumulator) is what the event-file tests read workbench's files back with.
if ! python3 -c "import tensorboard" 2>/dev/null; then
  echo "== installing tensorboard (pip)"
  python3 -m pip install -q tensorboard
fi

# YOLOv5's own code for the parity tests (tests/parity/gen_yolov5.py, tools/export_yolov5.py): the yolov5
# package from PyPI without its pinned dependencies (Debian's above serve), in a virtual environment that sees
# Debian's torch. 7.0.10: later 7.0.x import the ultralytics package. Another place: WB_YOLOV5_VENV=DIR.
yolov5_venv=${WB_YOLOV5_VENV:-$HOME/.cache/workbench/yolov5-venv}
if ! "$yolov5_venv/bin/python" -c "import sys, yolov5; sys.exit(yolov5.__version__ != '7.0.10')" 2>/dev/null; then
  echo "== installing yolov5 7.0.10 (pip, --no-deps) into $yolov5_venv"
  /usr/bin/python3 -m venv --system-site-packages "$yolov5_venv"
  "$yolov5_venv/bin/pip" install -q --no-deps yolov5==7.0.10
fi

echo "== building workbench in ./build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWB_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
echo "== built: ./build/bin/workbench"
