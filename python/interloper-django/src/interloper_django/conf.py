"""Settings and their defaults, read at use (tests override them)."""

import re
import socket

from django.conf import settings

# A Server-Timing `desc` is kept to token characters, so no header can be injected or quoted out.
_NOT_TOKEN = re.compile(r"[^A-Za-z0-9._:-]")


def instance_name():
    """INTERLOPER_INSTANCE, else the host name, as a bounded token."""
    name = getattr(settings, "INTERLOPER_INSTANCE", None) or socket.gethostname()
    return _NOT_TOKEN.sub("-", str(name))[:64] or "unknown"


def timing_allow_origin():
    """INTERLOPER_TIMING_ALLOW_ORIGIN: None (same origin only), "*", or a list of origins."""
    value = getattr(settings, "INTERLOPER_TIMING_ALLOW_ORIGIN", None)
    if not value:
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def rum_sample():
    """The share of page views that send a beacon, 0 to 1 (default 0.1)."""
    try:
        value = float(getattr(settings, "INTERLOPER_RUM_SAMPLE", 0.1))
    except (TypeError, ValueError):
        return 0.1
    return min(max(value, 0.0), 1.0)


def rum_log():
    """Where beacons are appended (INTERLOPER_RUM_LOG); None disables the endpoint."""
    return getattr(settings, "INTERLOPER_RUM_LOG", None)


MAX_BODY = 64 * 1024
MAX_FILES = 200


def rum_rate():
    """(beacons, seconds) accepted per client network per process (default 60 per 60 s)."""
    value = getattr(settings, "INTERLOPER_RUM_RATE", (60, 60))
    try:
        count, seconds = int(value[0]), float(value[1])
    except (TypeError, ValueError, IndexError):
        return (60, 60.0)
    return (max(count, 0), max(seconds, 1.0))


def client_header():
    """INTERLOPER_RUM_CLIENT_HEADER: a header your own proxy sets to the client's address
    (e.g. "HTTP_X_REAL_IP"); default REMOTE_ADDR. Only set it behind a proxy you run."""
    return getattr(settings, "INTERLOPER_RUM_CLIENT_HEADER", None) or "REMOTE_ADDR"


def binary():
    """The interloper binary for `manage.py interloper lint` (INTERLOPER_BINARY)."""
    return getattr(settings, "INTERLOPER_BINARY", None) or "interloper"
