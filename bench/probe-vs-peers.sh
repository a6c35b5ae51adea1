#!/usr/bin/env bash
# Benchmarks `interloper probe` against oha and wrk on a loopback nginx (plain HTTP and HTTPS,
# same file), and checks timing accuracy against a server that answers after exactly 50 ms.
#
#   bench/probe-vs-peers.sh            # defaults: N=20000 requests, C=16 connections
#   N=50000 C=32 bench/probe-vs-peers.sh
#
# Bounded: fixed request counts (wrk: fixed duration), every request to 127.0.0.1 only.
# Prints Markdown tables for docs/benchmarks.md; raw outputs go to target-bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

N=${N:-20000}            # requests per run (interloper, oha)
C=${C:-16}               # concurrent connections, all tools
WRK_SECS=${WRK_SECS:-10} # wrk has no request count: it runs for a fixed time
WRK_THREADS=${WRK_THREADS:-2}
DELAY_MS=${DELAY_MS:-50}
DELAY_N=${DELAY_N:-400}  # requests for the accuracy check
DELAY_C=${DELAY_C:-4}
cache="$root/target-bench"  # git-ignored (/target-*)
out="$cache/results"  # raw outputs, git-ignored with it
mkdir -p "$cache" "$out"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- peers (idempotent) -------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (Debian)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk >/dev/null
fi
OHA=$(command -v oha || true)
if [ -z "$OHA" ]; then
  OHA="$cache/oha/bin/oha"
  if [ ! -x "$OHA" ]; then
    log "cargo install oha --locked (compiles; cached in $cache/oha)"
    cargo install oha --locked --root "$cache/oha" >&2
  fi
fi

# --- interloper (release) ---------------------------------------------------------
target_dir="${CARGO_TARGET_DIR:-$root/target}"
log "cargo build --release -p interloper"
cargo build --release -p interloper -p interloper-testkit --bin interloper --example bench_servers >&2
IL="$target_dir/release/interloper"
SERVERS="$target_dir/release/examples/bench_servers"
# Until `interloper probe` exists the peers are still measured and interloper's cells say "—".
IL_OK=1
"$IL" probe --help > "$out/probe-help.txt" 2>&1 || { IL_OK=0; log "interloper probe not available: peers only"; }
has_flag() { grep -q -- "$1" "$out/probe-help.txt"; }
il_common=(--count "$N" --concurrency "$C" --json)
has_flag '--reuse' && il_common+=(--reuse)
has_flag '--http1' && il_common+=(--http1)

# --- servers: nginx (kit config) + fixed-delay server, stopped when fd 3 closes ---------
fifo=$(mktemp -u); mkfifo "$fifo"
"$SERVERS" "$DELAY_MS" < "$fifo" > "$out/servers.txt" &
servers_pid=$!
exec 3> "$fifo"; rm -f "$fifo"
cleanup() { exec 3>&- || true; wait "$servers_pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 300); do grep -q '^ready' "$out/servers.txt" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$out/servers.txt" || { echo "bench servers did not start" >&2; exit 1; }
val() { sed -n "s/^$1=//p" "$out/servers.txt"; }
HTTP_PORT=$(val http_port); HTTPS_PORT=$(val https_port); CA=$(val ca_pem); DELAY_PORT=$(val delay_port)
# 127.0.0.1, not localhost: nginx listens on IPv4 only, and no tool should spend time on ::1.
# The leaf carries an IP SAN for 127.0.0.1, so verification stays on for interloper.
url_http="http://127.0.0.1:$HTTP_PORT/small.txt"
url_https="https://127.0.0.1:$HTTPS_PORT/small.txt"
url_delay="http://127.0.0.1:$DELAY_PORT/"

# --- runners: each prints "requests_per_sec p50_ms p99_ms" ------------------------------
run_il() { # URL TAG [extra args]
  local url=$1 tag=$2; shift 2
  if [ "$IL_OK" = 0 ]; then echo "nan nan nan"; return; fi
  "$IL" probe "$url" "${il_common[@]}" --cacert "$CA" "$@" > "$out/interloper-$tag.json" || true
  python3 - "$out/interloper-$tag.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["targets"][0]["summary"]
if s.get("failed"):
    print(f"interloper: {s['failed']} failed: {s.get('failures')}", file=sys.stderr)
t = s["phases"]["total"]
print(f'{s["requests_per_sec"]:.0f} {t["p50"]:.3f} {t["p99"]:.3f}')
PY
}
run_oha() { # URL TAG
  "$OHA" -n "$N" -c "$C" --no-tui --insecure --output-format json "$1" > "$out/oha-$2.json"
  python3 - "$out/oha-$2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s, p = d["summary"], d["latencyPercentiles"]
print(f'{s["requestsPerSec"]:.0f} {p["p50"]*1000:.3f} {p["p99"]*1000:.3f}')
PY
}
run_wrk() { # URL TAG
  wrk -t "$WRK_THREADS" -c "$C" -d "${WRK_SECS}s" --latency "$1" > "$out/wrk-$2.txt"
  python3 - "$out/wrk-$2.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(re.search(r"^\s*50%\s+(\S+)", t, re.M).group(1))
p99 = ms(re.search(r"^\s*99%\s+(\S+)", t, re.M).group(1))
print(f"{rps:.0f} {p50:.3f} {p99:.3f}")
PY
}

# Warm nginx and the page cache once so the first tool measured is not penalised.
"$OHA" -n 2000 -c "$C" --no-tui --insecure "$url_https" >/dev/null 2>&1 || true

rows=()
for scheme in http https; do
  url_var="url_$scheme"; url=${!url_var}
  log "$scheme: interloper";  read -r il_rps il_p50 il_p99 < <(run_il "$url" "$scheme")
  log "$scheme: oha";         read -r oha_rps oha_p50 oha_p99 < <(run_oha "$url" "$scheme")
  log "$scheme: wrk";         read -r wrk_rps wrk_p50 wrk_p99 < <(run_wrk "$url" "$scheme")
  # µs of one request on one connection = C / throughput; overhead = interloper − peer.
  rows+=("$(python3 - "$scheme" "$il_rps" "$oha_rps" "$wrk_rps" "$il_p50" "$oha_p50" "$wrk_p50" "$C" <<'PY'
import sys
s, il, oha, wrk, ilp, ohap, wrkp, c = sys.argv[1:]
il, oha, wrk, c = float(il), float(oha), float(wrk), int(c)
us = lambda r: c / r * 1e6
f = lambda v, spec: "—" if v != v else format(v, spec)  # NaN: interloper not measured
print(f"| {s.upper()} | {f(il, '.0f')} | {oha:.0f} | {wrk:.0f} | {f(il/oha, '.2f')} | {f(il/wrk, '.2f')} "
      f"| {f(us(il), '.0f')} / {us(oha):.0f} / {us(wrk):.0f} | {f(us(il)-us(oha), '+.0f')} "
      f"| {ilp.replace('nan', '—')} / {ohap} / {wrkp} |")
PY
)")
done

log "timing accuracy: ${DELAY_MS} ms server delay, $DELAY_N requests, concurrency $DELAY_C"
accuracy="| interloper ttfb | — | — | — | — | — | not yet measured |"
[ "$IL_OK" = 1 ] && "$IL" probe "$url_delay" --count "$DELAY_N" --concurrency "$DELAY_C" --json \
  $(has_flag '--reuse' && echo --reuse) > "$out/interloper-delay.json" || true
[ "$IL_OK" = 1 ] && accuracy=$(python3 - "$out/interloper-delay.json" "$DELAY_MS" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); want = float(sys.argv[2])
s = d["targets"][0]["summary"]; t = s["phases"]["ttfb"]
print(f"| interloper ttfb ({s['ok']}/{s['count']} ok) | {t['min']:.3f} | {t['p50']:.3f} | {t['p90']:.3f} | {t['p99']:.3f} "
      f"| {t['max']:.3f} | {t['p99']-want:+.3f} |")
PY
)
"$OHA" -n "$DELAY_N" -c "$DELAY_C" --no-tui --output-format json "$url_delay" > "$out/oha-delay.json"
oha_acc=$(python3 - "$out/oha-delay.json" "$DELAY_MS" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); want = float(sys.argv[2])
s, p = d["summary"], d["latencyPercentiles"]
print(f"| oha total latency (reference) | {s['fastest']*1e3:.3f} | {p['p50']*1e3:.3f} | {p['p90']*1e3:.3f} "
      f"| {p['p99']*1e3:.3f} | {s['slowest']*1e3:.3f} | {p['p99']*1e3-want:+.3f} |")
PY
)

cat <<EOF

Throughput: $N requests (wrk: ${WRK_SECS} s), $C connections kept alive, HTTP/1.1, GET /small.txt (21 bytes), nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*nginx\///'), $(nproc) cores, all on 127.0.0.1.

| target | interloper req/s | oha req/s | wrk req/s | interloper / oha | interloper / wrk | µs per request per connection (il / oha / wrk) | overhead vs oha (µs) | p50 ms (il / oha / wrk) |
|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")

Timing accuracy: server sleeps ${DELAY_MS} ms after reading each request head; $DELAY_N requests, $DELAY_C connections.

| measure (ms) | min | p50 | p90 | p99 | max | p99 − ${DELAY_MS} ms |
|---|---|---|---|---|---|---|
$accuracy
$oha_acc
EOF
