#!/bin/sh
# Installs workbench to a temporary prefix, builds the out-of-tree example
# plugin against the INSTALLED SDK only (once with pkg-config, once with
# find_package), and checks the installed `workbench plugins` ACCEPTS it
# from WB_PLUGIN_PATH.
# Usage: run.sh BUILD_DIR EXAMPLE_SOURCE_DIR
set -eu
build=$1
example=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "out_of_tree: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "install failed"; }
for f in bin/workbench include/workbench/workbench.h lib/pkgconfig/workbench.pc \
         lib/cmake/workbench/workbench-config.cmake lib/cmake/workbench/wb_add_plugin.cmake; do
    [ -e "$prefix/$f" ] || fail "the install lacks $f"
done
[ -d "$prefix/lib/workbench/plugins" ] || fail "the install lacks lib/workbench/plugins/"

# A copy of the sources, so nothing but the installed headers can be found.
cp -r "$example" "$tmp/src"
unset WB_PLUGIN_PATH

# 1. pkg-config
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cflags=$(pkg-config --cflags workbench)
include_dir=$(echo $cflags | sed 's/^-I//')
[ "$(realpath "$include_dir")" = "$(realpath "$prefix/include")" ] || fail "pkg-config Cflags '$cflags' is not -I$prefix/include"
[ "$(realpath "$(pkg-config --variable=plugindir workbench)")" = "$(realpath "$prefix/lib/workbench/plugins")" ] \
    || fail "pkg-config plugindir is $(pkg-config --variable=plugindir workbench)"
mkdir "$tmp/pc"
cc -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden -Wl,-z,defs $cflags \
    "$tmp/src/scale_neck.c" -o "$tmp/pc/scale_neck.so" $(pkg-config --libs workbench)
out=$(WB_PLUGIN_PATH="$tmp/pc" "$prefix/bin/workbench" plugins)
echo "$out"
echo "$out" | grep -q "ACCEPTED  $tmp/pc/scale_neck.so  (scale_neck 0.1.0" || fail "pkg-config build was not ACCEPTED"
echo "$out" | grep -q "neck  *scale_neck " || fail "module scale_neck is not listed"
WB_PLUGIN_PATH="$tmp/pc" "$prefix/bin/workbench" describe scale_neck >/dev/null || fail "describe scale_neck failed"

# 2. find_package(workbench) with the example's own CMakeLists.txt
cmake -S "$tmp/src" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/cm.log" 2>&1 \
    || { cat "$tmp/cm.log"; fail "configuring the example failed"; }
cmake --build "$tmp/cm" >>"$tmp/cm.log" 2>&1 || { cat "$tmp/cm.log"; fail "building the example failed"; }
WB_PLUGIN_PATH="$tmp/cm/plugins" "$prefix/bin/workbench" plugins | grep -q "ACCEPTED  $tmp/cm/plugins/scale_neck.so" \
    || fail "CMake build was not ACCEPTED"
echo "out_of_tree: OK"
