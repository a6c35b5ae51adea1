#!/usr/bin/env bash
# Time to verdict: the built-in lab's scenarios checked with the sequential early stop (the
# default) and with --no-early-stop (every planned request), wall time and requests, median
# and worst; then the early stop's error rates (bench/early-stop-errors.sh: a path with 5 %
# stalls and a clean path, MISS_RUNS seeds each).
#
#   bench/time-to-verdict.sh                 # RUNS=10 FIXED_RUNS=10 MISS_RUNS=20
#   RUNS=3 FIXED_RUNS=1 MISS_RUNS=5 bench/time-to-verdict.sh
#
# Wall time is `interloper demo`'s whole process: the lab's start (a CA, origins, middleboxes
# on loopback) and shutdown included, the check's own share is that minus the clean page's.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
FIXED_RUNS=${FIXED_RUNS:-10}
MISS_RUNS=${MISS_RUNS:-20}
cargo build --release -q -p interloper
BIN=target/release/interloper
DIR=bench/time-to-verdict
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# One run: prints "seconds requests status root_cause target" for the demo arguments.
one() {
    local start end
    start=$(date +%s.%N)
    "$BIN" demo "$@" --json >"$TMP/out.json" 2>/dev/null || true
    end=$(date +%s.%N)
    python3 - "$TMP/out.json" "$start" "$end" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
secs = float(sys.argv[3]) - float(sys.argv[2])
reqs = sum(t["summary"]["requests"] for t in d["targets"])
v = d["verdict"]
target = (v.get("target") or "-").split("//")[-1].split(".")[0]
print(f"{secs:.2f} {reqs} {v['status']} {v.get('root_cause') or '-'} {target}")
PY
}

# Median and worst of column $1 over the lines of file $2.
stats() {
    python3 - "$1" "$2" <<'PY'
import sys, statistics
col = int(sys.argv[1])
vals = [float(l.split()[col]) for l in open(sys.argv[2]) if l.strip()]
print(f"median {statistics.median(vals):g}, worst {max(vals):g}")
PY
}

scenario() {
    local label=$1 runs=$2
    shift 2
    : >"$TMP/runs"
    for _ in $(seq "$runs"); do one "$@" >>"$TMP/runs"; done
    local verdicts
    verdicts=$(awk '{print $3"/"$4"/"$5}' "$TMP/runs" | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')
    printf '| %s | %s | %s s | %s | %s|\n' "$label" "$runs" \
        "$(stats 0 "$TMP/runs")" "$(stats 1 "$TMP/runs")" "$verdicts"
}

echo "| scenario | runs | wall time | requests | verdict/root cause/target |"
echo "|---|---|---|---|---|"
scenario "founding story, one vantage point (early stop)" "$RUNS" --config "$DIR/single-vantage.toml"
scenario "founding story, one vantage point (--no-early-stop)" "$FIXED_RUNS" --config "$DIR/single-vantage.toml" --no-early-stop
scenario "four instances, the fourth intercepted (early stop)" "$RUNS" --scenario inspection
scenario "four instances, the fourth intercepted (--no-early-stop)" "$FIXED_RUNS" --scenario inspection --no-early-stop
scenario "clean page (early stop)" "$RUNS" --config "$DIR/clean-page.toml"
scenario "clean page (--no-early-stop)" "$FIXED_RUNS" --config "$DIR/clean-page.toml" --no-early-stop

# Error rates: bench/early-stop-errors.sh, MISS_RUNS seeds each (0 skips them).
if [ "$MISS_RUNS" -gt 0 ]; then
    echo
    RUNS=$MISS_RUNS bench/early-stop-errors.sh | tail -1
fi
