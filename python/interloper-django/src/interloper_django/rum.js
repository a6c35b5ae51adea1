(function (c) {
  // interloper-django: for a sample of page views, after load, the Resource Timing of the page's
  // static files and the instance that served each (Server-Timing), sent once with sendBeacon.
  var w = window, p = w.performance, n = w.navigator;
  if (Math.random() >= c.sample || !p || !p.getEntriesByType || !n.sendBeacon || !w.JSON) return;
  var failed = {};
  function abs(u) { try { return new URL(u, location.href).href; } catch (e) { return ""; } }
  function isStatic(u) {
    for (var i = 0; i < c.prefixes.length; i++) if (u.indexOf(c.prefixes[i]) === 0) return true;
    return false;
  }
  // Error events of elements do not bubble: caught on the way down.
  w.addEventListener("error", function (e) {
    var t = e.target, u = t && (t.src || t.href);
    if (typeof u === "string" && isStatic(abs(u))) failed[abs(u)] = "error";
  }, true);
  function inst(e) {
    var s = (e && e.serverTiming) || [];
    for (var i = 0; i < s.length; i++) if (s[i].name === "inst") return s[i].description;
    return undefined;
  }
  function ms(x) { return Math.round(x * 10) / 10; }
  function timed(e) {
    var f = { url: e.name, instance: inst(e), protocol: e.nextHopProtocol || undefined,
      start: ms(e.startTime), duration: ms(e.duration), transfer: e.transferSize,
      encoded: e.encodedBodySize, decoded: e.decodedBodySize };
    if (e.responseStart > 0) {
      // Phases are readable (same origin, or Timing-Allow-Origin).
      var sec = e.secureConnectionStart > 0 ? e.secureConnectionStart : 0;
      f.dns = ms(e.domainLookupEnd - e.domainLookupStart);
      f.connect = ms((sec || e.connectEnd) - e.connectStart);
      f.tls = sec ? ms(e.connectEnd - sec) : 0;
      f.first_byte = ms(e.responseStart - e.requestStart);
      // Waiting for a connection: the time before the request went out that none of its own
      // phases explain (the browser held it for a connection another request was setting up).
      if (e.requestStart > 0) {
        var own = (e.domainLookupEnd - e.domainLookupStart) + (e.connectEnd - e.connectStart);
        f.queued = ms(Math.max(0, e.requestStart - e.fetchStart - own));
      }
      f.download = ms(e.responseEnd - e.responseStart);
      if (!e.transferSize && !e.encodedBodySize && !e.decodedBodySize) f.failed = "empty";
    }
    if (e.responseStatus) f.status = e.responseStatus;
    if (failed[e.name]) f.failed = failed[e.name];
    return f;
  }
  function send() {
    var files = [], seen = {}, es = p.getEntriesByType("resource");
    for (var i = 0; i < es.length && files.length < c.max; i++) {
      if (!isStatic(es[i].name) || seen[es[i].name]) continue;
      seen[es[i].name] = 1;
      files.push(timed(es[i]));
    }
    var els = document.querySelectorAll("link[rel~=stylesheet][href],script[src],img[src]");
    for (var j = 0; j < els.length && files.length < c.max; j++) {
      var u = abs(els[j].href || els[j].src);
      if (!isStatic(u) || seen[u]) continue;
      seen[u] = 1;
      files.push({ url: u, failed: failed[u] || "missing" });
    }
    if (!files.length) return;
    var nav = (p.getEntriesByType("navigation") || [])[0];
    var body = JSON.stringify({ schema: "interloper.rum.report/v1", page: location.pathname,
      instance: inst(nav), sample: c.sample, files: files });
    while (body.length > c.bytes && files.length > 1) {
      files.length = Math.floor(files.length / 2);
      body = JSON.stringify({ schema: "interloper.rum.report/v1", page: location.pathname,
        instance: inst(nav), sample: c.sample, files: files });
    }
    n.sendBeacon(c.endpoint, body);
  }
  // After load, and a little later so the last responses' entries are complete.
  w.addEventListener("load", function () { setTimeout(send, c.delay); });
})
