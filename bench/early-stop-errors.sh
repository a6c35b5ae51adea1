#!/usr/bin/env bash
# The early stop's error rates, measured: `interloper demo` over seeded labs, RUNS seeds each
# (default 20), with the sequential early stop (the default).
#   - a path where ~5 % of static responses stall 2 s (bench/time-to-verdict/stall-5.toml, the
#     rate the test's "present" side is set at): how many runs saw no stall (no IL201);
#   - a clean path (bench/time-to-verdict/clean-page.toml): how many reported a stall (IL201).
# The issue's goal is at most 1 in 20 each. One line per run, then the two counts.
#
#   bench/early-stop-errors.sh                  # RUNS=20, seeds 1–20
#   RUNS=5 bench/early-stop-errors.sh
#
# The lab's middlebox always mints with its own CA, so IL102/IL109 keep the 5 % path's verdict
# off `clean` whatever the stalls: a run that "says Clean" of the stalls is a run without IL201.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
cargo build --release -q -p interloper
BIN=target/release/interloper
DIR=bench/time-to-verdict
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# One run of the lab in $1: prints "seconds requests stalled verdict il201".
one() {
    local start end
    start=$(date +%s.%N)
    "$BIN" demo --config "$1" --json >"$TMP/out.json" 2>/dev/null || true
    end=$(date +%s.%N)
    python3 - "$TMP/out.json" "$start" "$end" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
secs = float(sys.argv[3]) - float(sys.argv[2])
reqs = sum(t["summary"]["requests"] for t in d["targets"])
stalled = sum(t["summary"]["stalled"] for t in d["targets"])
il201 = any(f["code"] == "IL201" for f in d["findings"])
print(f"{secs:.2f} {reqs} {stalled} {d['verdict']['status']} {int(il201)}")
PY
}

echo "path seed seconds requests stalled verdict IL201"
missed=0
for seed in $(seq "$RUNS"); do
    sed "s/SEED/$seed/" "$DIR/stall-5.toml" >"$TMP/stall.toml"
    r=$(one "$TMP/stall.toml")
    echo "stall-5 $seed $r"
    [ "$(echo "$r" | awk '{print $5}')" = 0 ] && missed=$((missed + 1))
done
false_alarms=0
for seed in $(seq "$RUNS"); do
    sed "s/^seed = 1$/seed = $seed/" "$DIR/clean-page.toml" >"$TMP/clean.toml"
    r=$(one "$TMP/clean.toml")
    echo "clean $seed $r"
    [ "$(echo "$r" | awk '{print $5}')" = 1 ] && false_alarms=$((false_alarms + 1))
done
echo
echo "5 % stalls: $missed of $RUNS runs said Clean of the stalls (no IL201); clean path: $false_alarms of $RUNS runs reported a stall (IL201)"
