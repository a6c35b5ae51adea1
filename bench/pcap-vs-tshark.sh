#!/usr/bin/env bash
# Benchmarks `interloper pcap --hellos-only` against tshark extracting every ClientHello's JA3
# from the same capture, side by side with farm-bench, after checking that the two give the
# same JA3 for every hello (all of them compared, as sorted lists).
#
#   bench/pcap-vs-tshark.sh                  # N=20000 connections (~220 000 packets, ~190 MB)
#   N=100000 RUNS=3 bench/pcap-vs-tshark.sh  # larger
#
# The capture is synthetic (bench/make-hello-capture.py: varied, seeded ClientHellos — GREASE,
# post-quantum-sized ones over two segments — each followed by server data and FINs) and
# written under target-bench/ (git-ignored). Nothing touches the network.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

N=${N:-20000}
RUNS=${RUNS:-5}
cache="$root/target-bench/pcap"
mkdir -p "$cache"
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

command -v tshark >/dev/null 2>&1 || {
  log "installing tshark (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null
}
command -v farm-bench >/dev/null 2>&1 || { echo "farm-bench is not on PATH" >&2; exit 2; }

log "cargo build --release -p interloper"
bin=$(cargo build --release -q -p interloper --message-format=json \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "interloper" and m.get("executable"):
        print(m["executable"])' | tail -1)
[ -x "$bin" ] || { echo "no interloper binary built" >&2; exit 2; }

file="$cache/hellos-$N.pcap"
if [ ! -s "$file" ]; then
  log "writing $file ($N connections)"
  python3 bench/make-hello-capture.py --connections "$N" "$file.tmp"
  mv "$file.tmp" "$file"
fi
ls -l "$file" >&2

filter='tls.handshake.type==1'
log "identity: every JA3, interloper vs tshark"
"$bin" pcap "$file" --hellos-only | cut -f4 | sort > "$cache/ja3-interloper.txt"
tshark -r "$file" -Y "$filter" -T fields -e tls.handshake.ja3 2>/dev/null | sort > "$cache/ja3-tshark.txt"
a=$(wc -l < "$cache/ja3-interloper.txt")
b=$(wc -l < "$cache/ja3-tshark.txt")
if cmp -s "$cache/ja3-interloper.txt" "$cache/ja3-tshark.txt"; then
  echo "JA3: identical, $a hellos each (interloper $a, tshark $b)"
else
  echo "JA3: DIFFERENT (interloper $a lines, tshark $b lines); first differences:"
  diff "$cache/ja3-interloper.txt" "$cache/ja3-tshark.txt" | head -10
  exit 1
fi
distinct=$(sort -u "$cache/ja3-tshark.txt" | wc -l)
echo "distinct JA3 values: $distinct"

log "timing (farm-bench, $RUNS runs each, interleaved)"
farm-bench -n "$RUNS" --timeout 3000 \
  --vs "tshark -r $file -Y $filter -T fields -e tls.handshake.ja3" \
  -- "$bin" pcap "$file" --hellos-only
