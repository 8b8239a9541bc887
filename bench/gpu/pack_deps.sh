#!/usr/bin/env bash
# Packs what bench/gpu/run.sh needs on a GPU machine that has nvcc, CMake and PyTorch but no Debian -dev
# packages and no network: the build's development packages (scripts/setup.sh's list, less the toolchain,
# MPI and Python) and the libraries they depend on, unpacked with dpkg -x into OUT/root. Run it on a machine
# of the GPU machine's distribution (Debian 12 here) with apt; carry OUT to the GPU machine and give it to
# run.sh with --deps OUT. .deb files come from apt's cache when there, else from `apt-get download`.
#   bench/gpu/pack_deps.sh OUT
set -euo pipefail
out=${1:?usage: bench/gpu/pack_deps.sh OUT}
mkdir -p "$out/debs" "$out/root"
out=$(cd "$out" && pwd)

wanted=(libconfig-dev libdnnl-dev libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libtiff-dev libwebp-dev
        libstb-dev libexpat1-dev libyaml-dev libcjson-dev libpango1.0-dev libcairo2-dev fonts-dejavu-core
        libprotobuf-c-dev protobuf-c-compiler libisal-dev libssl-dev check pkg-config)
# The GPU machine brings its own C library, compiler and Python: never shadow those.
skip='^(libc6|libc6-dev|libc-dev-bin|libgcc-s1|libgcc-.*-dev|libstdc\+\+.*|gcc.*|cpp.*|g\+\+.*|binutils.*|'
skip+='libbinutils|libctf.*|libgprofng.*|linux-libc-dev|libcrypt1|libcrypt-dev|perl.*|libperl.*|python3.*|'
skip+='libpython3.*|debconf.*|dpkg|tar|libselinux1|libzstd1|zlib1g|liblzma5|libbz2-1.0|libgomp1|libasan.*|'
skip+='libtsan.*|libubsan.*|liblsan.*|libitm.*|libatomic1|libquadmath0|libhwasan.*|libcc1-0|libisl23|libmpc3|'
skip+='libmpfr6|libgmp10|libnsl.*|libtirpc.*|rpcsvc-proto|libdb5.3|libgdbm.*|readline-common|libreadline8|'
skip+='libtinfo6|libncursesw6|sensible-utils|ucf|coreutils|install-info|lsb-base|sysvinit-utils)$'

mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
                         --no-replaces --no-enhances "${wanted[@]}" | grep -v '^ ' | grep -v '^<' | sort -u |
                       grep -Ev "$skip")
echo "== ${#closure[@]} packages"
cd "$out/debs"
for p in "${closure[@]}"; do
  v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || apt-cache policy "$p" | awk '/Candidate:/ {print $2}')
  arch=$(dpkg-query -W -f='${Architecture}' "$p" 2>/dev/null || echo amd64)
  cached=$(ls /var/cache/apt/archives/"${p}_${v//:/%3a}_${arch}.deb" 2>/dev/null || true)
  if [ -n "$cached" ]; then cp -n "$cached" .; else apt-get download -q "$p" >/dev/null 2>>"$out/download.log"; fi
done
for d in *.deb; do dpkg -x "$d" "$out/root"; done
echo "== $(ls | wc -l) .deb files unpacked into $out/root ($(du -sh "$out/root" | cut -f1)); carry $out"
