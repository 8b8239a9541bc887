#!/usr/bin/env bash
# What a run records beside its checkpoints, over four short trainings of the
# tiny detector (8 iterations an epoch) in work_dir "runs/exp{n}":
#  - {n} numbers runs as YOLOv5 does (runs/exp, runs/exp2); --resume takes the
#    highest; {date} is today; an unknown placeholder is refused (exit 2);
#  - a resumed run appends to log.json after one {"mode": "resume"} marker, and
#    to run.log after a second header;
#  - a new run in a used work dir starts new files: the previous log.json,
#    run.log and tensorboard/ move, unchanged, to history/<stamp>/;
#  - run.log: the environment header, then exactly the log lines the run
#    printed on stderr;
#  - symlinks planted at run.log and tensorboard/ lead no write elsewhere. About 9 s.
#   run_records.sh WORKBENCH SOURCE_DIR SCRATCH_DIR
set -euo pipefail
wb=$1 src=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
cd "$src"
small=(--threads 1 --set data.train.dataset.num_images=64 --set data.val.dataset.num_images=16 --set log.interval=4
       --set "schedule.milestones=[1]" --set schedule.warmup_iters=4)
train() { # train LOG ARGS...: a run whose stderr goes to LOG
  local log=$1; shift
  "$wb" run configs/tiny/center_tiny_synthetic.conf "${small[@]}" "$@" >"$log" 2>&1 || { cat "$log"; exit 1; }
}
train "$out/a.txt" --work-dir "$out/runs/exp{n}" --set schedule.max_epochs=1
train "$out/b.txt" --work-dir "$out/runs/exp{n}" --set schedule.max_epochs=1
train "$out/c.txt" --work-dir "$out/runs/exp{n}" --set schedule.max_epochs=2 --resume
cp "$out/runs/exp2/log.json" "$out/exp2_log_before.json"
cp "$out/runs/exp2/run.log" "$out/exp2_run_before.log"
train "$out/d.txt" --work-dir "$out/runs/exp2" --set schedule.max_epochs=1
day_before=$(date +%Y%m%d)
train "$out/e.txt" --work-dir "$out/day_{date}" --set schedule.max_epochs=1 --set log.tensorboard=false
day_after=$(date +%Y%m%d)
/usr/bin/python3 - "$out" "$day_before" "$day_after" <<'PY'
import glob, json, os, re, sys
out, day_before, day_after = sys.argv[1:]
runs = os.path.join(out, "runs")
assert sorted(os.listdir(runs)) == ["exp", "exp2"], os.listdir(runs)

def log_lines(path):
    return [json.loads(l) for l in open(path) if l.strip()]

# exp: one fresh 1-epoch run, no marker
exp = log_lines(os.path.join(runs, "exp", "log.json"))
assert [l["mode"] for l in exp] == ["train", "train", "val"], [l["mode"] for l in exp]
# exp2 before run d: run b (epoch 1), then the marker, then run c's epoch 2
before = log_lines(os.path.join(out, "exp2_log_before.json"))
modes = [l["mode"] for l in before]
assert modes == ["train", "train", "val", "resume", "train", "train", "val"], modes
marker = before[3]
assert marker["iteration"] == 8 and marker["checkpoint"].endswith("runs/exp2/latest.safetensors"), marker
assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", marker["time"]), marker
assert [l["epoch"] for l in before if l["mode"] == "train"] == [1, 1, 2, 2]
print("log.json: a resumed run appends after one resume marker (iteration 8)")

# run d, a new run in the used exp2: new files, the previous ones moved unchanged to history/<stamp>/
after = log_lines(os.path.join(runs, "exp2", "log.json"))
assert [l["mode"] for l in after] == ["train", "train", "val"], [l["mode"] for l in after]
hist = glob.glob(os.path.join(runs, "exp2", "history", "*"))
assert len(hist) == 1 and re.fullmatch(r"\d{8}_\d{6}", os.path.basename(hist[0])), hist
assert sorted(os.listdir(hist[0])) == ["log.json", "run.log", "tensorboard"], os.listdir(hist[0])
assert open(os.path.join(hist[0], "log.json")).read() == open(os.path.join(out, "exp2_log_before.json")).read()
assert open(os.path.join(hist[0], "run.log")).read() == open(os.path.join(out, "exp2_run_before.log")).read()
assert len(os.listdir(os.path.join(hist[0], "tensorboard"))) == 2  # runs b and c each wrote one event file
assert len(os.listdir(os.path.join(runs, "exp2", "tensorboard"))) == 1
print(f"a new run in a used work dir: the previous records are in history/{os.path.basename(hist[0])}/")

# {date}; log.tensorboard = false writes no event file
days = {day_before, day_after}
made = [d for d in os.listdir(out) if d.startswith("day_")]
assert len(made) == 1 and made[0][4:] in days, made
assert not os.path.exists(os.path.join(out, made[0], "tensorboard"))
print(f"work_dir day_{{date}}: {made[0]}")

# run.log: header, then exactly the log lines the run printed
stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO |WARN |ERROR|DEBUG) ")
def check_run_log(text, stderr_path, expect_header):
    lines = text.splitlines()
    header = [l for l in lines if l.startswith("# ")]
    for key in ("# run started " if expect_header == "new" else "# resumed ", "# workbench ", "# commit: ",
                "# compiler: ", "# system: ", "# cpu: ", "# cpu flags:", "# oneDNN: ", "# threads: 1 (--threads",
                "# backend: ", "# command line: "):
        assert any(h.startswith(key) for h in header), (key, header)
    cmd = next(h for h in header if h.startswith("# command line: "))
    assert "run configs/tiny/center_tiny_synthetic.conf" in cmd and "--work-dir" in cmd, cmd
    logged = [l for l in lines if stamp.match(l)]
    printed = [l for l in open(stderr_path).read().splitlines() if stamp.match(l)]
    assert logged == printed, (len(logged), len(printed), [l for l in printed if l not in logged][:3])
    return len(logged)

n = check_run_log(open(os.path.join(runs, "exp", "run.log")).read(), os.path.join(out, "a.txt"), "new")
# exp2 before run d: run b's part, then run c's after a second header
text = open(os.path.join(out, "exp2_run_before.log")).read()
parts = text.split("\n# resumed ")
assert len(parts) == 2 and text.count("# run started ") == 1, text[:300]
check_run_log(parts[0], os.path.join(out, "b.txt"), "new")
check_run_log("# resumed " + parts[1], os.path.join(out, "c.txt"), "resumed")
print(f"run.log: the environment header and every log line of the run ({n} in run a)")
PY
# symlinks planted at run.log and tensorboard/ are neither followed nor moved: warned, the victims untouched
mkdir -p "$out/planted" "$out/victim_dir" && echo precious >"$out/victim_log"
ln -s "$out/victim_log" "$out/planted/run.log" && ln -s "$out/victim_dir" "$out/planted/tensorboard"
train "$out/f.txt" --work-dir "$out/planted" --set schedule.max_epochs=1
grep -q "cannot write $out/planted/run.log" "$out/f.txt" || { cat "$out/f.txt"; exit 1; }
grep -q "$out/planted/tensorboard is not a folder (a symlink?); no TensorBoard log for this run" "$out/f.txt"
test "$(cat "$out/victim_log")" = precious && test -z "$(ls -A "$out/victim_dir")" && test ! -e "$out/planted/history"
echo "planted run.log and tensorboard symlinks: warned, not followed"
. "$src/tests/e2e/expect_fail.sh"
expect_fail 2 'work_dir "'"$out"'/x_{nn}": unknown placeholder {nn}; work_dir may hold {date}, {time} and one {n}' \
  "$out/bad.txt" -- "$wb" run configs/tiny/center_tiny_synthetic.conf --work-dir "$out/x_{nn}"
test ! -e "$out/x_{nn}" || { echo "the refused work_dir was created"; exit 1; }
# a history/ symlink would move the previous records out of the work dir: the run refuses to start
mkdir -p "$out/hist_link" "$out/victim_hist" && echo '{"mode": "val", "epoch": 1}' >"$out/hist_link/log.json"
ln -s "$out/victim_hist" "$out/hist_link/history"
expect_fail 1 "$out/hist_link/history is not a folder (a symlink?); the previous run's records stay where they are; move or remove it, or choose another --work-dir" \
  "$out/hist.txt" -- "$wb" run configs/tiny/center_tiny_synthetic.conf --work-dir "$out/hist_link"
test -z "$(ls -A "$out/victim_hist")" && test -f "$out/hist_link/log.json"
