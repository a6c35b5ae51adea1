"""A HAR written the way Chrome DevTools' exporter writes it, built from the Chrome DevTools
Protocol's Network events of a Playwright session.

Chrome's own "Export HAR" needs the DevTools window; this reproduces its rules (DevTools'
front_end/models/har/Log.ts over the SDK's NetworkRequest) from the same events DevTools
listens to, so the tests read a DevTools-style HAR of the very session Playwright recorded:

- `_fromCache` is "memory" when Chrome sent Network.requestServedFromCache, "disk" when the
  response says fromDiskCache, and only when no byte crossed the network (`_transferSize` 0);
- `_transferSize` is loadingFinished's encodedDataLength; `bodySize` is 0 for a cache hit or a
  304, -1 without the headers' text (HTTP/2), else transfer size less the headers' text;
- timings come from response.timing (dns, connect including ssl, send, wait, receive), blocked
  and `_blocked_queueing` from the time between the request's issue and its start; a memory
  cache hit has no timing (its wait is the time to the response);
- response headers are those on the wire (responseReceivedExtraInfo) when Chrome gives them;
- `connection` is the server's port and `_connectionId` the socket id, as current DevTools
  writes them; `_error` is loadingFailed's errorText; `_fetchedViaServiceWorker` and
  `_serviceWorkerResponseSource` are the response's.

usage: recorder = DevToolsHar(cdp_session, user_agent); … ; recorder.write(path)
"""

import datetime
import json
import re


def _iso(wall_seconds):
    return (
        datetime.datetime.fromtimestamp(wall_seconds, tz=datetime.timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class _Request:
    """What DevTools' NetworkRequest keeps of one request."""

    def __init__(self, event, page_id):
        self.id = event["requestId"]
        self.url = event["request"]["url"].split("#", 1)[0]
        self.method = event["request"]["method"]
        self.request_headers = event["request"].get("headers", {})
        self.issue_time = event["timestamp"]
        self.start_time = event["timestamp"]
        self.wall_offset = event["wallTime"] - event["timestamp"]
        self.resource_type = event.get("type", "Other")
        self.page_id = page_id
        self.response = None
        self.headers_text = None
        self.raw_headers = None
        self.timing = None
        self.response_received_time = -1
        self.end_time = -1
        self.from_memory = False
        self.from_disk = False
        self.transfer_size = 0
        self.resource_size = 0
        self.error = None

    def set_response(self, response, timestamp):
        self.response = response
        self.response_received_time = timestamp
        self.from_disk = self.from_disk or bool(response.get("fromDiskCache"))
        timing = response.get("timing")
        # NetworkRequest.timing: ignored for a memory cache hit; otherwise the request starts at
        # timing.requestTime and its headers arrived at receiveHeadersEnd.
        if timing and not self.from_memory:
            self.start_time = timing["requestTime"]
            headers_end = timing["requestTime"] + timing["receiveHeadersEnd"] / 1000
            if self.response_received_time < 0 or self.response_received_time > headers_end:
                self.response_received_time = headers_end
            if self.start_time > self.response_received_time:
                self.response_received_time = self.start_time
            self.timing = timing

    def cached(self):
        return (self.from_memory or self.from_disk) and not self.transfer_size

    def status(self):
        return self.response["status"] if self.response else 0

    def body_size(self):
        if self.cached() or self.status() == 304:
            return 0
        if not self.headers_text:
            return -1
        return self.transfer_size - len(self.headers_text)

    def timings(self):
        ms = lambda t: -1 if t == -1 else t * 1000  # noqa: E731
        queued = self.start_time - self.issue_time if self.issue_time < self.start_time else -1
        out = {
            "blocked": ms(queued),
            "dns": -1,
            "ssl": -1,
            "connect": -1,
            "send": 0,
            "wait": 0,
            "receive": 0,
            "_blocked_queueing": ms(queued),
        }
        highest = 0
        t = self.timing
        if t:
            starts = [v for v in (t["dnsStart"], t["connectStart"], t["sendStart"]) if v >= 0]
            blocked_start = min(starts) if starts else float("inf")
            if blocked_start != float("inf"):
                out["blocked"] += blocked_start
            dns_start = blocked_start if t["dnsEnd"] >= 0 else 0
            dns_end = t["dnsEnd"] if t["dnsEnd"] >= 0 else -1
            out["dns"] = dns_end - dns_start
            ssl_start = t["sslStart"] if t["sslEnd"] > 0 else 0
            ssl_end = t["sslEnd"] if t["sslEnd"] > 0 else -1
            out["ssl"] = ssl_end - ssl_start
            connect_from = [v for v in (dns_end, blocked_start) if v >= 0]
            connect_start = min(connect_from) if t["connectEnd"] >= 0 and connect_from else 0
            connect_end = t["connectEnd"] if t["connectEnd"] >= 0 else -1
            out["connect"] = connect_end - connect_start
            send_start = max(connect_end, dns_end, blocked_start) if t["sendEnd"] >= 0 else 0
            send_end = t["sendEnd"] if t["sendEnd"] >= 0 else 0
            out["send"] = max(send_end - send_start, 0)
            highest = max(send_end, connect_end, ssl_end, dns_end, blocked_start, 0)
        elif self.response_received_time == -1:
            # Nothing after blocked (still pending when written: no end either).
            out["blocked"] = ms(self.end_time - self.issue_time) if self.end_time >= 0 else -1
            return out
        request_time = t["requestTime"] if t else self.start_time
        wait_end = ms(self.response_received_time - request_time)
        out["wait"] = wait_end - highest
        out["receive"] = max(ms(self.end_time - request_time) - wait_end, 0)
        return out

    def entry(self):
        timings = self.timings()
        time = sum(
            max(timings[k], 0) for k in ("blocked", "dns", "connect", "send", "wait", "receive")
        )
        r = self.response or {}
        # DevTools shows the headers as they came on the wire (responseReceivedExtraInfo) when
        # it has them: a 304 answered on the wire shows its own, not the cached copy's.
        wire_headers = self.raw_headers or r.get("headers") or {}
        headers = [{"name": k, "value": v} for k, v in wire_headers.items()]
        if self.headers_text:
            first = self.headers_text.split("\r\n", 1)[0]
            match = re.search(r"HTTP/\d+\.\d+", first)
            version = match.group(0) if match else "HTTP/0.9"
        else:
            version = r.get("protocol", "")
        compression = None
        if not (self.cached() or self.status() in (304, 206)) and self.headers_text:
            compression = self.resource_size - self.body_size()
        content = {"size": self.resource_size, "mimeType": r.get("mimeType") or "x-unknown"}
        if compression is not None:
            content["compression"] = compression
        entry = {
            "_initiator": None,
            "_priority": None,
            "_resourceType": self.resource_type.lower(),
            "cache": {},
            "request": {
                "method": self.method,
                "url": self.url,
                "httpVersion": version,
                "headers": [{"name": k, "value": v} for k, v in self.request_headers.items()],
                "queryString": [],
                "cookies": [],
                "headersSize": -1,
                "bodySize": 0,
            },
            "response": {
                "status": self.status(),
                "statusText": r.get("statusText", ""),
                "httpVersion": version,
                "headers": headers,
                "cookies": [],
                "content": content,
                "redirectURL": wire_headers.get("location", wire_headers.get("Location", "")),
                "headersSize": len(self.headers_text) if self.headers_text else -1,
                "bodySize": self.body_size(),
                "_transferSize": self.transfer_size,
                "_error": self.error,
                "_fetchedViaServiceWorker": bool(r.get("fromServiceWorker")),
                "_responseCacheStorageCacheName": r.get("cacheStorageCacheName"),
                "_serviceWorkerResponseSource": r.get("serviceWorkerResponseSource"),
            },
            "serverIPAddress": (r.get("remoteIPAddress") or "").strip("[]"),
            "startedDateTime": _iso(self.issue_time + self.wall_offset),
            "time": time,
            "timings": timings,
        }
        if self.cached():
            entry["_fromCache"] = "memory" if self.from_memory else "disk"
        if r.get("remotePort"):
            entry["connection"] = str(r["remotePort"])
        if r.get("connectionId"):
            entry["_connectionId"] = str(int(r["connectionId"]))
        if self.page_id is not None:
            entry["pageref"] = f"page_{self.page_id}"
        return entry


class DevToolsHar:
    """Collects a CDP session's Network events; `write` exports them as DevTools would."""

    def __init__(self, cdp, user_agent):
        self.requests = {}
        self.done = []
        self.pages = []
        version = re.search(r"AppleWebKit/([^ ]+)", user_agent or "")
        self.creator = {"name": "WebInspector", "version": version.group(1) if version else "n/a"}
        for name in (
            "requestWillBeSent",
            "requestServedFromCache",
            "responseReceived",
            "responseReceivedExtraInfo",
            "dataReceived",
            "loadingFinished",
            "loadingFailed",
        ):
            cdp.on(f"Network.{name}", getattr(self, "_" + name))

    def _requestWillBeSent(self, e):
        previous = self.requests.pop(e["requestId"], None)
        if previous and e.get("redirectResponse"):
            # A redirect reuses the request id: the hop ends with the redirect's response.
            previous.set_response(e["redirectResponse"], e["timestamp"])
            previous.end_time = e["timestamp"]
            previous.transfer_size = e["redirectResponse"].get("encodedDataLength", 0)
            self.done.append(previous)
        if e.get("type") == "Document" and e["requestId"] == e.get("loaderId"):
            self.pages.append(
                {
                    "startedDateTime": _iso(e["wallTime"]),
                    "id": f"page_{len(self.pages) + 1}",
                    "title": e["request"]["url"],
                    "pageTimings": {"onContentLoad": -1, "onLoad": -1},
                }
            )
        self.requests[e["requestId"]] = _Request(e, len(self.pages) or None)

    def _requestServedFromCache(self, e):
        r = self.requests.get(e["requestId"])
        if r:
            r.from_memory = True
            r.timing = None

    def _responseReceived(self, e):
        r = self.requests.get(e["requestId"])
        if r:
            r.set_response(e["response"], e["timestamp"])

    def _responseReceivedExtraInfo(self, e):
        r = self.requests.get(e["requestId"])
        if r:
            r.raw_headers = e.get("headers") or r.raw_headers
            r.headers_text = e.get("headersText") or r.headers_text

    def _dataReceived(self, e):
        r = self.requests.get(e["requestId"])
        if r:
            r.resource_size += e.get("dataLength", 0)
            r.transfer_size += e.get("encodedDataLength", 0)

    def _loadingFinished(self, e):
        r = self.requests.pop(e["requestId"], None)
        if r:
            r.end_time = e["timestamp"]
            if e.get("encodedDataLength", -1) >= 0:
                r.transfer_size = e["encodedDataLength"]
            self.done.append(r)

    def _loadingFailed(self, e):
        r = self.requests.pop(e["requestId"], None)
        if r:
            r.end_time = e["timestamp"]
            r.error = e.get("errorText") or None
            self.done.append(r)

    def write(self, path):
        """Every request seen, finished or not (a pending one has no response), in issue order."""
        requests = sorted(self.done + list(self.requests.values()), key=lambda r: r.issue_time)
        log = {
            "version": "1.2",
            "creator": self.creator,
            "pages": self.pages,
            "entries": [r.entry() for r in requests if r.url.startswith("http")],
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"log": log}, f, indent=1)
