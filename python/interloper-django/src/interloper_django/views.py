"""The beacon endpoint: validates and bounds what a page sends, appends one JSON line.

What it accepts: a POST of at most 64 KiB holding ``interloper.rum.report/v1`` JSON, at most
200 files, known fields only, each value checked (times finite and under an hour, sizes whole
and bounded, strings cut and printable); at most INTERLOPER_RUM_RATE beacons per client network
per process. What it keeps: the client's network (/24 for IPv4, /48 for IPv6), never the
address; never a cookie or another header; the time it received the beacon. It answers 204
whatever it kept, so a page learns nothing from it, and 405/413/429/400 otherwise.
"""

import datetime
import fcntl
import ipaddress
import json
import math
import os
import re
import threading
import time

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import conf

REPORT_SCHEMA = "interloper.rum.report/v1"
BEACON_SCHEMA = "interloper.rum.beacon/v1"
_MAX_MS = 3_600_000.0
_TIMES = ("start", "queued", "dns", "connect", "tls", "first_byte", "download", "duration")
_SIZES = ("transfer", "encoded", "decoded")
_FAILURES = ("error", "missing", "empty")
_PROTOCOL = re.compile(r"^[a-z0-9./-]{1,16}$")
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")
_MAX_NETWORKS = 10_000

_lock = threading.Lock()
_windows = {}


def _text(value, limit):
    if not isinstance(value, str):
        return None
    value = _NOT_PRINTABLE.sub("", value).strip()[:limit]
    return value or None


def _time(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    if not math.isfinite(value) or not 0.0 <= value < _MAX_MS:
        return None
    return round(value, 1)


def _size(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 40:
        return None
    return value


def network_of(address):
    """The client's network: /24 for IPv4, /48 for IPv6 (an IPv4-mapped address as IPv4)."""
    try:
        ip = ipaddress.ip_address((address or "").split(",")[0].strip())
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network("%s/%d" % (ip, prefix), strict=False))


def _file(raw):
    """One file, its known fields checked; None when it has no usable URL."""
    if not isinstance(raw, dict):
        return None
    url = _text(raw.get("url"), 2048)
    if not url or not (url.startswith(("https://", "http://", "/"))):
        return None
    out = {"url": url}
    instance = _text(raw.get("instance"), 64)
    if instance:
        out["instance"] = instance
    protocol = raw.get("protocol")
    if isinstance(protocol, str) and _PROTOCOL.match(protocol):
        out["protocol"] = protocol
    for key in _TIMES:
        value = _time(raw.get(key))
        if value is not None:
            out[key] = value
    for key in _SIZES:
        value = _size(raw.get(key))
        if value is not None:
            out[key] = value
    status = _size(raw.get("status"))
    if status is not None and 100 <= status < 600:
        out["status"] = status
    if raw.get("failed") in _FAILURES:
        out["failed"] = raw["failed"]
    return out


def validate(report):
    """The beacon line for a page's report, or None when it is not one."""
    if not isinstance(report, dict) or report.get("schema") != REPORT_SCHEMA:
        return None
    files = report.get("files")
    if not isinstance(files, list) or len(files) > conf.MAX_FILES:
        return None
    kept = [f for f in (_file(raw) for raw in files) if f is not None]
    if not kept:
        return None
    line = {"schema": BEACON_SCHEMA}
    page = _text(report.get("page"), 512)
    if page:
        line["page"] = page.split("?")[0]
    instance = _text(report.get("instance"), 64)
    if instance:
        line["instance"] = instance
    sample = _time(report.get("sample"))
    if sample is not None and sample <= 1.0:
        line["sample"] = sample
    line["files"] = kept
    return line


def _allowed(network, now=None):
    """Whether `network` may send one more beacon in this window (per process, bounded)."""
    count, seconds = conf.rum_rate()
    now = time.monotonic() if now is None else now
    with _lock:
        if len(_windows) >= _MAX_NETWORKS:
            _windows.clear()
        start, seen = _windows.get(network, (now, 0))
        if now - start >= seconds:
            start, seen = now, 0
        if seen >= count:
            return False
        _windows[network] = (start, seen + 1)
        return True


def _append(path, line):
    data = (json.dumps(line, separators=(",", ":"), ensure_ascii=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        # One write per line under an exclusive lock: workers of several processes never
        # interleave their lines.
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, data)
    finally:
        os.close(fd)


def _read_bounded(request):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > conf.MAX_BODY:
        return None
    body = request.read(conf.MAX_BODY + 1)
    return body if len(body) <= conf.MAX_BODY else None


@csrf_exempt
def beacon(request):
    """POST a page's report; 204 when taken (or silently not kept), an error status otherwise."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    path = conf.rum_log()
    if not path:
        return HttpResponse(status=404)
    body = _read_bounded(request)
    if body is None:
        return HttpResponse(status=413)
    network = network_of(request.META.get(conf.client_header()))
    if not _allowed(network or "unknown"):
        return HttpResponse(status=429)
    try:
        report = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return HttpResponse(status=400)
    line = validate(report)
    if line is None:
        return HttpResponse(status=400)
    stamped = {"schema": line.pop("schema")}
    stamped["received"] = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    if network:
        stamped["client"] = network
    stamped.update(line)
    _append(path, stamped)
    return HttpResponse(status=204)
