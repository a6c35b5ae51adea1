#!/usr/bin/env bash
# interloper logs on every built-in format, side by side with goaccess on the formats goaccess
# reads: wall time, CPU time, throughput and peak memory, in one run.
#
#   bench/logs-vs-goaccess.sh                        # 200 MiB of each shape, 3 runs each
#   SIZE_MB=1000 RUNS=1 bench/logs-vs-goaccess.sh    # bigger
#   SHAPES="trailing apache" bench/logs-vs-goaccess.sh
#   LOG_DIR=/tmp/logs bench/logs-vs-goaccess.sh      # where the logs are written (default
#                                                    # target-bench/logs, git-ignored)
#
# Shapes (bench/make-access-log.py, deterministic): `keyed`, nginx combined + rt=… urt="…"
# ua="…"; `trailing`, nginx combined + bare $request_time $upstream_response_time
# $upstream_addr (the shape most production log_format lines add), also read through a
# `--format nginx:'…'` string; `apache`, vhost_combined + %D; `haproxy`, httplog behind a syslog
# prefix; `avi`, Avi JSON lines. goaccess runs on keyed, trailing and apache (it reads neither
# HAProxy's syslog lines nor JSON). For the trailing shape the script also compresses the log
# with gzip -1 and zstd -3 and times `gzip -dc > /dev/null` (one core's inflate) beside
# interloper on the .gz.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
size_mb=${SIZE_MB:-200}
runs=${RUNS:-3}
shapes=${SHAPES:-keyed trailing apache haproxy avi}
logs=${LOG_DIR:-target-bench/logs}
out=target-bench/results
mkdir -p "$out" "$logs"

command -v goaccess >/dev/null || { apt-get update -qq && apt-get install -y -qq goaccess; }
[ -x /usr/bin/time ] || apt-get install -y -qq time
command -v zstd >/dev/null || apt-get install -y -qq zstd

if [ -n "${INTERLOPER_BIN:-}" ]; then
  bin=$INTERLOPER_BIN
else
  cargo build --release -q -p interloper
  # Where cargo really put it (a wrapper or a config may redirect the target directory).
  target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  bin=$target_dir/release/interloper
fi

# One timed run: appends "name|wall|cpu|rss_kib" to $out/logs-bench.txt; the command's output
# is in $out/FILE.out, FILE the name with every character but letters and digits made `_`.
measure() { # name, command…
  local name=$1; shift
  local file=${name//[^A-Za-z0-9]/_}
  /usr/bin/time -f "%e %U %S %M" -o "$out/$file.time" "$@" > "$out/$file.out" 2> "$out/$file.err" || true
  tail -1 "$out/$file.time" | awk -v n="$name" '{ printf "%s|%s|%.2f|%s\n", n, $1, $2 + $3, $4 }' >> "$out/logs-bench.txt"
}

# Medians per tool over the runs, as one markdown table; goaccess (if run) is the reference.
table() { # bytes
  awk -F'|' -v bytes="$1" '
    { k = $1; n[k]++; w[k, n[k]] = $2; c[k, n[k]] = $3; r[k, n[k]] = $4; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
    function median(a, k, cnt,   i, j, t, v) {
      for (i = 1; i <= cnt; i++) v[i] = a[k, i]
      for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
    }
    END {
      gw = ("goaccess" in seen) ? median(w, "goaccess", n["goaccess"]) : 0
      gc = ("goaccess" in seen) ? median(c, "goaccess", n["goaccess"]) : 0
      printf "| tool | wall (median of %d) | CPU | MB/s wall | MB per CPU-s | peak RSS | goaccess / this, wall | CPU |\n|---|---|---|---|---|---|---|---|\n", n[order[1]]
      for (i = 1; i <= m; i++) {
        k = order[i]; mw = median(w, k, n[k]); mc = median(c, k, n[k]); mr = median(r, k, n[k])
        printf "| %s | %.2f s | %.2f s | %.0f | %.0f | %.1f MiB | %s | %s |\n", k, mw, mc, bytes / mw / 1e6, bytes / mc / 1e6, mr / 1024,
          gw ? sprintf("%.1fx", gw / mw) : "-", gc ? sprintf("%.1fx", gc / mc) : "-"
      }
    }' "$out/logs-bench.txt"
}

trailing_format='nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time $upstream_addr'

for shape in $shapes; do
  log=$logs/$shape-${size_mb}mb.log
  [ -s "$log" ] || python3 bench/make-access-log.py "$log" "$size_mb" "$shape"
  bytes=$(stat -L -c %s "$log")
  lines=$(wc -l < "$log")
  cat "$log" > /dev/null  # in the page cache for every tool
  echo "== $shape: $log, $bytes bytes, $lines lines"
  case $shape in
    keyed) format=(--log-format=COMBINED) ;;
    # goaccess reads the bare request time (%T, seconds) and skips the other two.
    trailing) format=(--log-format='%h %^[%d:%t %^] "%r" %s %b "%R" "%u" %T %^ %^'
                      --date-format=%d/%b/%Y --time-format=%T) ;;
    apache) format=(--log-format='%v:%^ %h %^[%d:%t %^] "%r" %s %b "%R" "%u" %D'
                    --date-format=%d/%b/%Y --time-format=%T) ;;
    *) format=() ;;
  esac
  : > "$out/logs-bench.txt"
  for _ in $(seq "$runs"); do
    if [ ${#format[@]} -gt 0 ]; then
      measure goaccess goaccess "$log" "${format[@]}" --no-global-config -o "$out/goaccess-$shape.json"
    fi
    measure interloper "$bin" logs "$log" --json
    if [ "$shape" = trailing ]; then
      measure "interloper --format" "$bin" logs "$log" --json --format "$trailing_format"
    fi
  done
  cp "$out/interloper.out" "$out/interloper-$shape.json"
  table "$bytes"
  # Every line read: goaccess's count of valid requests, interloper's parsed lines.
  python3 - "$out/goaccess-$shape.json" "$out/interloper-$shape.json" "${#format[@]}" <<'PY'
import json, sys
i = json.load(open(sys.argv[2]))
parsed = sum(s["parsed"] for s in i["sources"])
line = (f"interloper parsed {parsed}; verdict {i['verdict']['status']} ({i['verdict'].get('target')}), "
        "findings " + ", ".join(f["code"] for f in i["findings"]))
if sys.argv[3] != "0":
    g = json.load(open(sys.argv[1]))["general"]
    line = f"goaccess valid requests {g['valid_requests']}, failed {g['failed_requests']}; " + line
print(line)
PY
  if [ "$shape" = trailing ]; then
    gzip -1 -c "$log" > "$log.gz"
    zstd -q -3 -f -o "$log.zst" "$log"
    : > "$out/logs-bench.txt"
    for _ in $(seq "$runs"); do
      measure "gzip -dc > /dev/null" sh -c 'gzip -dc "$1" > /dev/null' sh "$log.gz"
      measure "interloper .gz" "$bin" logs "$log.gz" --json
      measure "zstd -dc > /dev/null" sh -c 'zstd -dc "$1" > /dev/null' sh "$log.zst"
      measure "interloper .zst" "$bin" logs "$log.zst" --json
    done
    echo "== $shape compressed (MB/s are of the uncompressed log text)"
    table "$bytes"
    rm -f "$log.gz" "$log.zst"
  fi
done
