#!/usr/bin/env bash
# Hostile plugins. A library in ./plugins of the current directory is never
# loaded (its constructor would run inside dlopen, before any check). A plugin
# whose code crashes or calls exit() is named, and the command fails.
#   hostile_plugins.sh WORKBENCH SOURCE_DIR SCRATCH_DIR PLUGIN_BUILD_DIR FIXTURE_DIR
set -euo pipefail
wb=$1 src=$2 scratch=$3 fixtures=$5
rm -rf "$scratch" && mkdir -p "$scratch"
cd "$scratch"

fail() {
  echo "FAILED: $*"
  [ -f out.txt ] && cat out.txt
  exit 1
}

# expect WANT PATTERN ARGS...: runs workbench ARGS; its exit status must be WANT
# ("nonzero" for a crash: a signal, or the sanitizer's exit), its output must contain PATTERN.
expect() {
  local want=$1 pattern=$2
  shift 2
  local got=0
  "$wb" "$@" >out.txt 2>&1 || got=$?
  if [ "$want" = nonzero ]; then [ "$got" != 0 ] || fail "workbench $* exited 0"
  else [ "$got" = "$want" ] || fail "workbench $* exited $got, expected $want"; fi
  grep -qF -- "$pattern" out.txt || fail "workbench $* did not say: $pattern"
  echo "ok: workbench $* -> exit $got, says: $pattern"
}

# An experiment of the tiny detector on generated data, with backbone $1.
experiment() {
  cat <<CONF
@include "$src/configs/tiny/center_tiny_synthetic.conf"
model = {
  backbone = { type = "$1"; };
  head = { type = "center_head"; num_classes = 3; feat_channels = 8; };
};
schedule = { max_epochs = 1; milestones = [1]; };
CONF
}

echo "== a downloaded directory with ./plugins/evil.so: validate there runs none of its code"
mkdir -p downloaded/plugins
cp "$fixtures/evil/evil.so" downloaded/plugins/evil.so
experiment tiny_cnn >downloaded/experiment.conf
(cd downloaded && expect 0 "model (checked with a forward" validate experiment.conf)
[ ! -e downloaded/evil_constructor_ran ] || fail "./plugins/evil.so was loaded: its constructor ran"
echo "ok: ./plugins/evil.so was not loaded"
# The control: named explicitly, the same file is loaded (its constructor runs), so the check above means something.
(cd downloaded && expect 0 "REJECTED  plugins/evil.so: no entry point" --plugin-dir plugins plugins)
[ -e downloaded/evil_constructor_ran ] || fail "the fixture's constructor did not leave its marker"
echo "ok: --plugin-dir plugins loads it (marker written), so only the implicit ./plugins is gone"

echo "== plugin code that crashes or exits is named, and the command fails"
experiment faulty >faulty.conf
expect nonzero "faulty_forward_segv.so) crashed with SIGSEGV (invalid memory access) in faulty.forward (backbone); this is a bug in that plugin" \
  --plugin-dir "$fixtures/fault_forward_segv" validate faulty.conf
grep -qF "workbench: plugin 'fixture_faulty' (" out.txt || fail "the crash report does not name the plugin"
expect 1 "workbench: plugin 'fixture_faulty' (" --plugin-dir "$fixtures/fault_forward_exit" run faulty.conf --work-dir work
grep -qF "faulty_forward_exit.so) called exit(0) in faulty.forward (backbone); the command did not finish, stopping with status 1" \
  out.txt || fail "the exit report does not say where exit(0) was called"
expect nonzero "faulty_entry_abort.so crashed with SIGABRT (abort) in its entry point wb_plugin_entry_v1 (while loading it from --plugin-dir); this is most likely a bug in that plugin" \
  --plugin-dir "$fixtures/fault_entry_abort" plugins
expect nonzero "faulty_ctor_segv.so crashed with SIGSEGV (invalid memory access) in its constructors (while loading it from --plugin-dir); this is a bug in that plugin" \
  --plugin-dir "$fixtures/fault_ctor_segv" plugins
cat >dataset.conf <<CONF
@include "$src/configs/tiny/center_tiny_synthetic.conf"
data = { train = { dataset = { type = "faulty_data"; }; }; };
schedule = { max_epochs = 1; milestones = [1]; };
CONF
# get() runs on the loader threads and, for labels.jpg, on the main thread: whichever reaches the
# bad sample first is named.
expect nonzero "faulty_dataset_get.so) crashed with SIGSEGV (invalid memory access) in" \
  --plugin-dir "$fixtures/fault_dataset_get" run dataset.conf --work-dir work
grep -qE "in (its dataset get \(data loader\)|faulty_data\.get \(train\)); the fault is in code that the plugin called" out.txt ||
  fail "the crash in the dataset's get was not named as such"

echo "== module parameters that cannot be meaningful are configuration errors, not internal ones"
for n in 0 100000000; do
  sed "s/num_classes = 3;/num_classes = $n;/" downloaded/experiment.conf >classes.conf
  expect 2 "classes.conf:4: error: model.head.num_classes = $n is out of range [1, 100000]" validate classes.conf
done
expect 2 "<command line>:1: error: num_classes = 0 is out of range [1, 100000]" gradcheck retina_head --set num_classes=0

echo "all hostile plugin checks passed"
