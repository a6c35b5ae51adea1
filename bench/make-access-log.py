#!/usr/bin/env python3
"""A deterministic access log for the logs benchmarks: static assets and pages through four
backends, one of which has client aborts, upstream time-outs and bodies cut short.

Usage: make-access-log.py OUT SIZE_MB SHAPE
SHAPE: keyed     nginx combined + rt=… urt="…" ua="…" (named trailing fields)
       trailing  nginx combined + $request_time $upstream_response_time $upstream_addr (bare
                 fields, the shape most production log_format lines add)
       apache    Apache vhost_combined + %D (microseconds): `vhost:port client - - [time]
                 "request" status bytes "referer" "agent" micros`
       haproxy   HAProxy `option httplog` behind a syslog prefix, four servers of one backend
       avi       Avi / NSX ALB application logs, one JSON object per line, with the many fields
                 an Avi export carries besides the ones interloper reads
"""
import json
import random
import sys

SHAPES = ("keyed", "trailing", "apache", "haproxy", "avi")
path, size_mb, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if shape not in SHAPES:
    sys.exit(f"unknown shape {shape!r}: one of {', '.join(SHAPES)}")
rnd = random.Random(7)
files = [("/static/css/site.3f2a1b9c8d7e.css", 18211), ("/static/js/app.9b8c7d6e5f4a.js", 92113),
         ("/static/img/logo.1a2b3c4d5e6f.svg", 3301), ("/static/fonts/inter.0a1b2c3d4e5f.woff2", 48212),
         ("/", 5120), ("/accounts/login/", 4032), ("/api/items?page=2", 911)]
uas = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0"]
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def haproxy_line(sec, h, m, s, d, client, path_, status, size, rt, urt, backend):
    ms = sec % 1000
    state = {499: "CD--", 504: "sH--"}.get(status, "----")
    shown = -1 if status == 499 else status
    tr = -1 if status in (499, 504) else int(urt * 1000)
    return (f'<134>Nov {d:2d} {h:02d}:{m:02d}:{s:02d} lb1 haproxy[7120]: {client}:{40000 + sec % 20000} '
            f'[{d:02d}/Nov/2026:{h:02d}:{m:02d}:{s:02d}.{ms:03d}] www-https~ app/web{backend} '
            f'0/0/1/{tr}/{int(rt * 1000)} {shown} {size} - - {state} 12/12/3/1/0 0/0 '
            f'"GET {path_} HTTP/1.1"\n')


def avi_line(sec, h, m, s, d, client, path_, status, size, rt, urt, backend, kind):
    signs = []
    if status == 499:
        signs = ["ADF_CLIENT_CONN_ABORTED"]
        status = 200
    elif status == 504:
        signs = ["ADF_SERVER_CONN_TIMEDOUT"]
    record = {
        "adf": bool(signs), "significant": 0, "udf": False, "virtualservice": "virtualservice-4f1c",
        "report_timestamp": f"2026-11-{d:02d}T{h:02d}:{m:02d}:{s:02d}.{sec % 1000:03d}Z",
        "service_engine": "se-0a1b2c", "vcpu_id": sec % 4, "log_id": sec,
        "client_ip": client, "client_src_port": 40000 + sec % 20000, "client_dest_port": 443,
        "client_rtt": 1 + sec % 9, "ssl_version": "TLSv1.3", "ssl_cipher": "TLS_AES_128_GCM_SHA256",
        "sni_hostname": "app.example", "http_version": "1.1", "method": "GET",
        "uri_path": path_.split("?")[0], "uri_query": path_.split("?")[1] if "?" in path_ else "",
        "user_agent": rnd.choice(uas), "host": "app.example", "etag": "", "persistent_session_id": sec,
        "response_content_type": "text/css", "request_length": 412, "cache_hit": False,
        "server_ip": 167772160 + backend, "server_dest_port": 8000, "server_src_port": 50000 + sec % 9000,
        "server_rtt": 1, "server_name": f"10.0.0.{backend}", "pool": "pool-app", "pool_name": "app-pool",
        "response_code": status, "response_length": size, "total_time": int(rt * 1000),
        "server_response_time_first_byte": int(urt * 1000), "server_response_time_last_byte": int(urt * 1000),
        "server_response_code": status, "request_id": f"{sec:08x}-aaaa", "headers_sent_to_server": {},
        "significant_log": signs, "compression": "NO_COMPRESSION_CAN_BE_CACHED",
    }
    return json.dumps(record, separators=(",", ":")) + "\n"


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
            status, rt = 200, rnd.uniform(0.001, 0.03)
            kind = None
            if backend == 4 and path_.startswith("/static") and rnd.random() < 0.1:
                kind = rnd.randrange(3)
                if kind == 0: status, size, rt = 499, 0, rnd.uniform(5, 20)
                elif kind == 1: status, size, rt = 504, 160, 60.0
                else: size, rt = rnd.randrange(1, size), rnd.uniform(3, 20)
            urt = rt * 0.9
            h, m, s = (sec // 3600) % 24, (sec // 60) % 60, sec % 60
            d = 1 + (sec // 86400) % 28
            client = f"203.0.113.{rnd.randrange(254)}"
            if shape == "haproxy":
                lines.append(haproxy_line(sec, h, m, s, d, client, path_, status, size, rt, urt, backend))
                continue
            if shape == "avi":
                lines.append(avi_line(sec, h, m, s, d, client, path_, status, size, rt, urt, backend, kind))
                continue
            request = (f'[{d:02d}/Nov/2026:{h:02d}:{m:02d}:{s:02d} +0000] '
                       f'"GET {path_} HTTP/1.1" {status} {size} "https://app.example/" "{rnd.choice(uas)}"')
            if shape == "apache":
                lines.append(f'app.example:443 {client} - - {request} {int(rt * 1e6)}\n')
            elif shape == "keyed":
                lines.append(f'{client} - - {request} rt={rt:.3f} urt="{urt:.3f}" ua="10.0.0.{backend}:8000"\n')
            else:
                lines.append(f'{client} - - {request} {rt:.3f} {urt:.3f} 10.0.0.{backend}:8000\n')
        chunk = "".join(lines)
        f.write(chunk)
        written += len(chunk)
