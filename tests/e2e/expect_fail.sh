# Sourced by the e2e scripts (tests/e2e/hostile_*.sh).

# expect_fail CODE FRAGMENT LOG -- command...: the command exits CODE within 60 s
# (a hang is a failure too) and its output contains FRAGMENT.
expect_fail() {
  local code=$1 fragment=$2 log=$3; shift 4
  local rc=0
  timeout 60 "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" != "$code" ] || ! grep -qF -- "$fragment" "$log"; then
    cat "$log"; echo "expected exit $code and '$fragment', got exit $rc"; exit 1
  fi
  echo "exit $rc: $(grep -F -- "$fragment" "$log" | head -1 | cut -c1-220)"
}
