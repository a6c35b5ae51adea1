#!/usr/bin/env python3
"""A large HAR as Chrome DevTools saves it "with content": pages of static files, each entry
with its request and response headers, timings and the body text. Deterministic (seeded).
Written entry by entry, never held whole.

Usage: make-big-har.py OUT SIZE_MB
"""
import json
import random
import sys

out, size_mb = sys.argv[1], int(sys.argv[2])
target = size_mb * 1024 * 1024
rnd = random.Random(26)
assets = [(f"/static/{kind}/file{i:03d}.{i * 7919 % 65536:04x}.{ext}", mime)
          for i in range(200)
          for kind, ext, mime in [("css", "css", "text/css"), ("js", "js", "application/javascript"),
                                  ("img", "svg", "image/svg+xml")][i % 3:i % 3 + 1]]
# A body as DevTools stores it: text (CSS, JS, SVG), some kilobytes.
body = ("/* interloper bench */ .a{color:#123456} " * 200)[:6000]
ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def headers(pairs):
    return [{"name": n, "value": v} for n, v in pairs]


def entry(n, page):
    path, mime = rnd.choice(assets)
    stalled = rnd.random() < 0.05
    wait = 2500.0 + rnd.uniform(0, 500) if stalled else rnd.uniform(5, 40)
    receive = rnd.uniform(0.5, 5)
    minute, second = divmod(n // 20, 60)
    hour, minute = divmod(minute, 60)
    return {
        "_resourceType": "stylesheet" if mime == "text/css" else "script",
        "_priority": "High",
        "connection": str(100 + n % 6),
        "pageref": f"page_{page}",
        "startedDateTime": f"2026-11-30T{hour % 24:02d}:{minute:02d}:{second:02d}.{n % 1000:03d}Z",
        "time": wait + receive + 0.4,
        "request": {
            "method": "GET",
            "url": f"https://shop.example{path}",
            "httpVersion": "http/2.0",
            "headers": headers([(":authority", "shop.example"), (":method", "GET"), (":path", path),
                                (":scheme", "https"), ("accept", "text/css,*/*;q=0.1"),
                                ("accept-encoding", "gzip, deflate, br, zstd"),
                                ("accept-language", "en-GB,en;q=0.9"), ("referer", "https://shop.example/"),
                                ("sec-ch-ua", '"Chromium";v="131", "Not_A Brand";v="24"'),
                                ("sec-fetch-dest", "style"), ("sec-fetch-mode", "no-cors"),
                                ("sec-fetch-site", "same-origin"), ("user-agent", ua)]),
            "queryString": [],
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 200,
            "statusText": "",
            "httpVersion": "http/2.0",
            "headers": headers([("cache-control", "max-age=31536000, public, immutable"),
                                ("content-encoding", "br"), ("content-length", "1800"),
                                ("content-type", mime), ("date", "Mon, 30 Nov 2026 10:00:00 GMT"),
                                ("etag", f'"{n:08x}"'), ("last-modified", "Mon, 30 Nov 2026 09:00:00 GMT"),
                                ("server", "nginx"), ("vary", "Accept-Encoding")]),
            "cookies": [],
            "content": {"size": len(body), "mimeType": mime, "text": body},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_transferSize": 1900,
            "_error": None,
        },
        "cache": {},
        "serverIPAddress": "192.0.2.10",
        "timings": {"blocked": 0.4, "dns": -1, "ssl": -1, "connect": -1, "send": 0.1,
                    "wait": wait, "receive": receive, "_blocked_queueing": 0.3},
    }


with open(out, "w") as f:
    f.write('{"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},\n'
            '"pages": [], "entries": [\n')
    written, n = 0, 0
    while written < target:
        text = json.dumps(entry(n, n // 50), separators=(",", ":"))
        f.write(("," if n else "") + text + "\n")
        written += len(text) + 2
        n += 1
    f.write("]}}\n")
print(f"{out}: {n} entries", file=sys.stderr)
