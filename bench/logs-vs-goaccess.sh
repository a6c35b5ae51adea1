#!/usr/bin/env bash
# interloper logs vs goaccess on one generated combined access log: wall time, throughput and
# peak memory, side by side in one run. Usage: bench/logs-vs-goaccess.sh  (SIZE_MB=200 default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
size_mb=${SIZE_MB:-200}
out=target-bench/results
mkdir -p "$out" target-bench/logs
log=target-bench/logs/combined-${size_mb}mb.log

command -v goaccess >/dev/null || { apt-get update -qq && apt-get install -y -qq goaccess; }
[ -x /usr/bin/time ] || apt-get install -y -qq time

if [ ! -s "$log" ]; then
  # Deterministic: the same file on every machine. Static assets and pages through four
  # backends; one backend has client aborts, upstream time-outs and bodies cut short.
  python3 - "$log" "$size_mb" <<'PY'
import random, sys
path, size_mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
files = [("/static/css/site.3f2a1b9c8d7e.css", 18211), ("/static/js/app.9b8c7d6e5f4a.js", 92113),
         ("/static/img/logo.1a2b3c4d5e6f.svg", 3301), ("/static/fonts/inter.0a1b2c3d4e5f.woff2", 48212),
         ("/", 5120), ("/accounts/login/", 4032), ("/api/items?page=2", 911)]
uas = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0"]
target = size_mb * 1024 * 1024
written = 0
sec = 0
with open(path, "w") as f:
    while written < target:
        lines = []
        for _ in range(1000):
            sec += 1
            path_, size = rnd.choice(files)
            backend = rnd.randrange(4) + 1
            status, rt, urt = 200, rnd.uniform(0.001, 0.03), None
            if backend == 4 and path_.startswith("/static") and rnd.random() < 0.1:
                kind = rnd.randrange(3)
                if kind == 0: status, size, rt = 499, 0, rnd.uniform(5, 20)
                elif kind == 1: status, size, rt = 504, 160, 60.0
                else: size, rt = rnd.randrange(1, size), rnd.uniform(3, 20)
            urt = rt * 0.9
            h, m, s = (sec // 3600) % 24, (sec // 60) % 60, sec % 60
            d = 1 + (sec // 86400) % 28
            lines.append(
                f'203.0.113.{rnd.randrange(254)} - - [{d:02d}/Nov/2026:{h:02d}:{m:02d}:{s:02d} +0000] '
                f'"GET {path_} HTTP/1.1" {status} {size} "https://app.example/" "{rnd.choice(uas)}" '
                f'rt={rt:.3f} urt="{urt:.3f}" ua="10.0.0.{backend}:8000"\n')
        chunk = "".join(lines)
        f.write(chunk)
        written += len(chunk)
PY
fi

cargo build --release -q -p interloper
# Where cargo really put it (a wrapper or a config may redirect the target directory).
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin=$target_dir/release/interloper
bytes=$(stat -L -c %s "$log")
lines=$(wc -l < "$log")
echo "log: $log, $((bytes / 1024 / 1024)) MiB, $lines lines"

measure() { # name, command…
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$out/$name.rss" "$@" > "$out/$name.out" 2> "$out/$name.err" || true
  t1=$(date +%s.%N)
  local secs rss
  secs=$(echo "$t1 - $t0" | bc -l)
  rss=$(tail -1 "$out/$name.rss")
  printf '%s %.2f %d\n' "$name" "$secs" "$rss" >> "$out/logs-bench.txt"
}

: > "$out/logs-bench.txt"
measure goaccess goaccess "$log" --log-format=COMBINED --no-global-config -o "$out/goaccess.json"
measure interloper "$bin" logs "$log" --json
awk -v bytes="$bytes" '
  { name[NR]=$1; secs[NR]=$2; rss[NR]=$3 }
  END {
    printf "| tool | wall time | throughput | peak RSS | time vs goaccess |\n|---|---|---|---|---|\n";
    for (i = 1; i <= NR; i++)
      printf "| %s | %.1f s | %.1f MB/s | %.0f MiB | %.3fx |\n", name[i], secs[i], bytes / secs[i] / 1e6, rss[i] / 1024, secs[i] / secs[1];
  }' "$out/logs-bench.txt"
grep -m1 '"summary"' "$out/interloper.out" || true
