#!/usr/bin/env bash
# Peak memory of `interloper logs` on a JSON-document export (Avi's API: one document with the
# records in a "results" list), pretty-printed and compact, against the same records as JSON
# lines; and of `interloper check --manifest FILE` with a big staticfiles.json against a page
# served on loopback. Fails when a bound is crossed or the findings differ.
#
# Usage: bench/logs-json-memory.sh   (SIZE_MB=128 export, MANIFEST_MB=60, LIMIT_MB=200;
#        BIN=path/to/interloper to skip the release build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
size_mb=${SIZE_MB:-128}
manifest_mb=${MANIFEST_MB:-60}
limit_mb=${LIMIT_MB:-200}
work=target-bench/json-memory
out=target-bench/results
mkdir -p "$work" "$out"
[ -x /usr/bin/time ] || apt-get install -y -qq time

if [ ! -s "$work/export-${size_mb}mb.json" ]; then
  # Deterministic: the same records on every machine. Four servers; the fourth has client
  # aborts, upstream time-outs and bodies cut short on a tenth of its static requests.
  python3 - "$work" "$size_mb" <<'PY'
import json, random, sys
work, size_mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(11)
files = [("/static/css/site.3f2a1b9c8d7e.css", 18211), ("/static/js/app.9b8c7d6e5f4a.js", 92113),
         ("/static/img/logo.1a2b3c4d5e6f.svg", 3301), ("/static/fonts/inter.0a1b2c3d4e5f.woff2", 48212),
         ("/", 5120), ("/accounts/login/", 4032), ("/api/items", 911)]
records, written, i = [], 0, 0
with open(f"{work}/export-{size_mb}mb.json", "w") as doc, \
     open(f"{work}/export-{size_mb}mb.jsonl", "w") as lines:
    doc.write('{\n  "count": 0,\n  "results": [\n')
    while written < size_mb * 1024 * 1024:
        i += 1
        path, size = rnd.choice(files)
        server = rnd.randrange(4) + 1
        total, signs, code = rnd.randrange(2, 40), [], 200
        if server == 4 and path.startswith("/static") and rnd.random() < 0.1:
            kind = rnd.randrange(3)
            if kind == 0: signs, total = ["ADF_CLIENT_CONN_ABORTED"], rnd.randrange(5000, 20000)
            elif kind == 1: signs, total, code = ["ADF_SERVER_UPSTREAM_TIMEOUT"], 60000, 504
            else: size, total = rnd.randrange(1, size), rnd.randrange(3000, 20000)
        s = i % 86400
        r = {
            "adf": False, "virtualservice": "virtualservice-6f1c0c3e-2d4b-4a41-9c1e-3b8d0e1f2a3b",
            "vs_ip": "10.20.0.10", "client_ip": "198.51.100.%d" % rnd.randrange(254),
            "client_src_port": rnd.randrange(1024, 65535), "client_dest_port": 443,
            "client_rtt": rnd.randrange(1, 40), "service_engine": "se-0050569a1b2c",
            "method": "GET", "uri_path": path, "uri_query": "", "http_version": "1.1",
            "host": "app.example",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            "referer": "https://app.example/", "response_code": code, "response_length": size,
            "response_content_type": "text/css", "total_time": total,
            "server_response_time_first_byte": max(1, total * 9 // 10),
            "server_response_time_last_byte": max(1, total * 9 // 10),
            "server_ip": "10.10.0.%d" % server, "server_dest_port": 8443,
            "server_name": "10.10.0.%d" % server, "significant_log": signs,
            "report_timestamp": "2026-11-24T%02d:%02d:%02d.000000Z" % (s // 3600, s // 60 % 60, s % 60),
            "log_id": i, "request_id": "%08x-%04x" % (rnd.getrandbits(32), rnd.getrandbits(16)),
            "ssl_version": "TLSv1.3", "ssl_cipher": "TLS_AES_256_GCM_SHA384",
            "pool": "pool-0e6a0f49-8b7f-4f7e-8a0e-2f3c4d5e6f70", "pool_name": "static-pool",
        }
        lines.write(json.dumps(r, separators=(",", ":")) + "\n")
        body = "\n".join("    " + l for l in json.dumps(r, indent=2).split("\n"))
        chunk = ("" if i == 1 else ",\n") + body
        doc.write(chunk)
        written += len(chunk)
    doc.write("\n  ]\n}\n")
# The same document compact, all on one line, as the API answers it.
with open(f"{work}/export-{size_mb}mb.json") as f, open(f"{work}/export-{size_mb}mb.compact.json", "w") as c:
    json.dump(json.load(f), c, separators=(",", ":"))
PY
fi

if [ ! -s "$work/staticfiles-${manifest_mb}mb.json" ]; then
  python3 - "$work" "$manifest_mb" <<'PY'
import hashlib, json, sys
work, mb = sys.argv[1], int(sys.argv[2])
paths, size, i = {}, 0, 0
while size < mb * 1024 * 1024:
    i += 1
    name = "app%d/components/widget-%06d/styles/%s.css" % (i % 97, i, "x" * (i % 13))
    paths[name] = name[:-4] + "." + hashlib.md5(name.encode()).hexdigest()[:12] + ".css"
    size += len(name) + len(paths[name]) + 8
with open(f"{work}/staticfiles-{mb}mb.json", "w") as f:
    json.dump({"paths": paths, "version": "1.1", "hash": "000000000000"}, f)
PY
fi

if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p interloper
  BIN=${CARGO_TARGET_DIR:-target}/release/interloper
fi

results="$out/logs-json-memory.txt"
: > "$results"
failed=0
measure() { # name, bound MiB (0: none), input file, command…
  local name=$1 bound=$2 input=$3; shift 3
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/$name.rss" "$@" > "$work/$name.out" 2> "$work/$name.err" || rc=$?
  t1=$(date +%s.%N)
  local kib secs
  kib=$(tail -1 "$work/$name.rss")
  secs=$(echo "$t1 - $t0" | bc -l)
  printf '| %s | %d MiB | %.0f MiB | %.2f s | exit %d |\n' "$name" \
    "$(( $(stat -c %s "$input") >> 20 ))" "$(echo "$kib / 1024" | bc -l)" "$secs" "$rc" >> "$results"
  if [ "$bound" -gt 0 ] && [ "$kib" -ge $((bound * 1024)) ]; then
    echo "FAIL: $name peaked at $((kib / 1024)) MiB (bound $bound MiB)" >&2
    failed=1
  fi
}

for kind in json compact.json jsonl; do
  input="$work/export-${size_mb}mb.$kind"
  measure "logs-$kind" "$limit_mb" "$input" "$BIN" logs "$input" --json
done

# The findings of the document equal those of the same records as lines (examples aside: a
# record's example shows the fields read, a line's is the line).
python3 - "$work" <<'PY' || failed=1
import json, sys
work = sys.argv[1]
def said(name):
    r = json.load(open(f"{work}/{name}.out"))
    groups = [{k: v for k, v in g.items() if k != "examples"} for g in r["groups"]]
    found = [(f["code"], f["severity"], f["summary"]) for f in r["findings"]]
    sources = [(s["lines"], s["parsed"], s["static_requests"]) for s in r["sources"]]
    return found, r["verdict"], groups, sources
a, b, c = said("logs-json"), said("logs-compact.json"), said("logs-jsonl")
if not (a == b == c):
    sys.exit("FAIL: the document's findings differ from the same records as JSON lines")
print("findings equal:", [x[0] for x in a[0]], "verdict target:", a[1].get("target"))
PY

# `check --manifest FILE` against a one-stylesheet page on loopback.
site="$work/site"
mkdir -p "$site/static"
printf '<html><head><link rel="stylesheet" href="/static/a.0123456789ab.css"></head></html>' > "$site/index.html"
echo 'body{}' > "$site/static/a.0123456789ab.css"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
manifest="$work/staticfiles-${manifest_mb}mb.json"
# The file is read whole and the manifest keeps about twice its size.
measure check-manifest $((manifest_mb * 4)) "$manifest" "$BIN" check "http://127.0.0.1:$port/" \
  --manifest "$manifest" --samples 2 --budget 5s --json
grep -q '"summary"' "$work/check-manifest.out" || { echo "FAIL: check-manifest gave no report" >&2; failed=1; }

printf '| run | input | peak RSS | wall time | exit |\n|---|---|---|---|---|\n'
cat "$results"
exit $failed
