"use strict";
// The visit page's script: downloads test files from the witness (and the operator's site URLs)
// for a bounded time, reads each download's Resource Timing, posts one report, and shows the
// witness's answer. Every text shown is set with textContent: nothing from the network becomes
// markup.
(function () {
  var cfg = JSON.parse(document.getElementById("config").textContent);
  var $ = function (id) { return document.getElementById(id); };
  $("secs").textContent = String(cfg.seconds);
  $("code").textContent = cfg.visit;
  if (performance.setResourceTimingBufferSize) { performance.setResourceTimingBufferSize(5000); }
  var t0 = performance.now();
  var deadline = t0 + cfg.seconds * 1000;
  var entries = [];
  var seed = 0;

  function entriesFor(url) { return performance.getEntriesByName(url, "resource"); }

  // The browser adds a download's timing entry when its body has arrived, which for a no-cors
  // response can be after fetch() resolved: wait for this download's own entry (bounded).
  function timing(url, before) {
    return new Promise(function (resolve) {
      var waited = 0;
      (function poll() {
        var list = entriesFor(url);
        if (list.length > before) { return resolve(list[list.length - 1]); }
        if (waited >= 5000) { return resolve(null); }
        waited += 50;
        setTimeout(poll, 50);
      })();
    });
  }

  function fill(entry, t) {
    if (!t) { return; }
    entry.duration_ms = Math.max(0, t.responseEnd - t.startTime);
    entry.protocol = t.nextHopProtocol || "";
    entry.transfer_size = t.transferSize || 0;
    // Cross-origin without Timing-Allow-Origin: the browser zeroes the detailed marks.
    var allowed = t.requestStart > 0 && t.responseStart > 0;
    entry.timing_allowed = allowed;
    if (!allowed) { return; }
    if (t.connectEnd > t.connectStart) { entry.connect_ms = t.connectEnd - t.connectStart; }
    if (t.secureConnectionStart > 0 && t.connectEnd > t.secureConnectionStart) {
      entry.tls_ms = t.connectEnd - t.secureConnectionStart;
    }
    entry.ttfb_ms = Math.max(0, t.responseStart - t.requestStart);
    entry.body_ms = Math.max(0, t.responseEnd - t.responseStart);
  }

  function download(kind, url, indexOrBytes, s, expected) {
    var entry = {
      kind: kind, index_or_bytes: indexOrBytes, seed: s, ok: false, error: null,
      start_ms: performance.now() - t0, duration_ms: 0, connect_ms: null, tls_ms: null,
      ttfb_ms: null, body_ms: null, protocol: "", transfer_size: 0, timing_allowed: false
    };
    var started = performance.now();
    var absolute = new URL(url, location.href).href;
    var before = entriesFor(absolute).length;
    var ctl = new AbortController();
    // A download still running well past the end is a stall worth reporting, not waiting for.
    var timer = setTimeout(function () { ctl.abort(); }, Math.max(2000, deadline + 5000 - started));
    var opts = { cache: "no-store", signal: ctl.signal, credentials: "omit" };
    if (kind === "site") { opts.mode = "no-cors"; }
    return fetch(url, opts).then(function (r) {
      if (kind === "site") { entry.ok = r.type === "opaque" || r.ok; return null; }
      if (!r.ok) { entry.error = "status"; return null; }
      return r.arrayBuffer().then(function (b) {
        entry.ok = b.byteLength === expected;
        if (!entry.ok) { entry.error = "short"; }
      });
    }).catch(function (e) {
      entry.error = (e && e.name === "AbortError") ? "timeout" : "network";
    }).then(function () {
      clearTimeout(timer);
      entry.duration_ms = performance.now() - started;
      return entry.error ? null : timing(absolute, before);
    }).then(function (t) {
      fill(entry, t);
      entries.push(entry);
    });
  }

  function round() {
    var jobs = [];
    // Each job keeps its own seed (`s`), fixed when the job is made.
    cfg.sizes.forEach(function (n) {
      seed += 1;
      var s = seed;
      var url = cfg.payload + "?bytes=" + n + "&seed=" + s + "&visit=" + cfg.visit;
      jobs.push(function () { return download("witness", url, n, s, n); });
    });
    cfg.site.forEach(function (u, i) {
      seed += 1;
      var s = seed;
      jobs.push(function () { return download("site", u, i, s, 0); });
    });
    // One after another: the numbers then describe the path, not the browser's queue.
    return jobs.reduce(function (p, job) { return p.then(job); }, Promise.resolve());
  }

  function progress() {
    var done = Math.min(1, (performance.now() - t0) / (cfg.seconds * 1000));
    $("bar").value = Math.round(done * 100);
    $("status").textContent = "Measuring… " + entries.length + " downloads so far";
  }

  function loop() {
    progress();
    if (performance.now() >= deadline || entries.length >= cfg.max_downloads) { return report(); }
    var next = performance.now() + cfg.round_ms;
    return round().then(function () {
      progress();
      var wait = Math.max(0, Math.min(next, deadline) - performance.now());
      return new Promise(function (res) { setTimeout(res, wait); });
    }).then(loop);
  }

  function show(answer) {
    $("bar").value = 100;
    $("status").textContent = "Done.";
    $("headline").textContent = answer.headline;
    var ul = $("details");
    (answer.details || []).forEach(function (d) {
      var li = document.createElement("li");
      li.textContent = d;
      ul.appendChild(li);
    });
    $("result").hidden = false;
    document.body.setAttribute("data-state", answer.intercepted ? "intercepted" : "done");
  }

  function report() {
    $("status").textContent = "Sending the results…";
    var body = JSON.stringify({
      schema: "interloper.visit-report/v1", visit: cfg.visit,
      elapsed_ms: performance.now() - t0, entries: entries
    });
    return fetch(cfg.report + "?visit=" + cfg.visit, {
      method: "POST", cache: "no-store", credentials: "omit",
      headers: { "Content-Type": "application/json" }, body: body
    }).then(function (r) {
      if (!r.ok) { throw new Error("the witness answered " + r.status); }
      return r.json();
    }).then(show).catch(function (e) {
      $("status").textContent = "The results could not be sent (" + e.message + "). Your visit code still helps.";
      $("result").hidden = false;
      document.body.setAttribute("data-state", "failed");
    });
  }

  loop();
})();
