#!/usr/bin/env bash
# What a big HAR and a big capture cost: wall time and peak RSS of `interloper har` and
# `interloper pcap` (and `pcap --hellos-only` next to tshark extracting the same JA3s) at two
# sizes, to show time linear in size and memory flat.
#
#   bench/big-har-pcap.sh                       # 250 MB and 1000 MB of each
#   SIZES="100 400" bench/big-har-pcap.sh       # other sizes (MB)
#   INTERLOPER_BIN=target/release/interloper bench/big-har-pcap.sh  # no build first
#
# The inputs are generated under $BENCH_TMP (default /tmp/interloper-big, never committed):
# bench/make-big-har.py (DevTools "with content" entries, 5 % stalled) and
# bench/make-hello-capture.py (seeded ClientHellos, server data, FINs). Nothing touches the
# network. Timing and memory come from /usr/bin/time -v, one run each (warm page cache: each
# file is read once first).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${SIZES:-250 1000}
tmp=${BENCH_TMP:-/tmp/interloper-big}
mkdir -p "$tmp"
[ -x /usr/bin/time ] || apt-get install -y -qq time
command -v tshark >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null

# INTERLOPER_BIN: a binary already built (release), instead of building one.
if [ -n "${INTERLOPER_BIN:-}" ]; then
  bin=$INTERLOPER_BIN
else
  cargo build --release -q -p interloper
  target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  bin=$target_dir/release/interloper
fi

# One run: "name size wall_s peak_MiB" on stdout, the command's output in $tmp/NAME-SIZE.out.
run() { # name, size, command…
  local name=$1 size=$2; shift 2
  /usr/bin/time -v -o "$tmp/$name-$size.time" "$@" > "$tmp/$name-$size.out" 2>&1 || true
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$tmp/$name-$size.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$tmp/$name-$size.time")
  printf '| %s | %s MB | %.2f s | %s MiB |\n' "$name" "$size" "$wall" "$rss"
}

echo "| command | input | wall | peak RSS |"
echo "|---|---|---|---|"
for size in $sizes; do
  har=$tmp/big-$size.har
  [ -s "$har" ] || python3 bench/make-big-har.py "$har" "$size" 2>/dev/null
  cat "$har" > /dev/null
  run "interloper har --json" "$size" "$bin" har "$har" --json
done
for size in $sizes; do
  pcap=$tmp/big-$size.pcap
  # 20 000 connections make about 184 MiB.
  [ -s "$pcap" ] || python3 bench/make-hello-capture.py --connections $((size * 20000 / 193)) "$pcap"
  cat "$pcap" > /dev/null
  run "interloper pcap --json" "$size" "$bin" pcap "$pcap" --json
  run "interloper pcap --hellos-only" "$size" "$bin" pcap "$pcap" --hellos-only
  run "tshark JA3" "$size" tshark -r "$pcap" -Y 'tls.handshake.type==1' -T fields -e tls.handshake.ja3
  # The same fingerprints: every JA3, as sorted lists.
  cut -f4 "$tmp/interloper pcap --hellos-only-$size.out" | sort > "$tmp/ja3-interloper-$size.txt"
  # (tshark's own warnings share the file: only the JA3 lines are compared.)
  grep -E '^[0-9a-f]{32}$' "$tmp/tshark JA3-$size.out" | sort > "$tmp/ja3-tshark-$size.txt"
  if cmp -s "$tmp/ja3-interloper-$size.txt" "$tmp/ja3-tshark-$size.txt"; then
    echo "<!-- $size MB: JA3 identical, $(wc -l < "$tmp/ja3-tshark-$size.txt") hellos -->"
  else
    echo "<!-- $size MB: JA3 lists DIFFER -->"
  fi
done
