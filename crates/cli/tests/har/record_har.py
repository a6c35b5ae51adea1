"""Record a HAR of pages with the system chromium, headless, through Playwright.

Used by crates/cli/tests/har_e2e.rs: the lab's pages are visited several times with the
browser cache disabled (each visit fetches every file again), or left on as users have it, and
the recording is written as Playwright writes it (`record_har_path`). Only loopback is contacted: the lab's names
(app-N.localhost) resolve to loopback, and Playwright's chromium flags turn off background
networking.

usage: record_har.py OUT.har VISITS URL [URL…]
HAR_HOST_RULES (optional) replaces the resolver rules, e.g. to reach a second address of the
lab by another name: "MAP app-1.localhost 127.0.0.1, MAP alt-1.localhost 127.0.0.2".
HAR_LEAVE_AFTER_MS (optional): save the HAR that long after each page's response started,
as a user who sends the recording while the page is still loading does.
HAR_CONTEXT_PER_VISIT (optional): every visit in a fresh browser context (its own connections,
as visits over a day would have), the contexts' recordings joined into OUT in start order.
HAR_KEEP_CACHE (optional): leave the browser's cache on, as a user's browser has it: later
visits take the files from the memory cache or revalidate them.
HAR_AWAIT_JS (optional): a JavaScript expression the page awaits after each visit (at most
10 s), e.g. "navigator.serviceWorker.ready" so that the next visit is a service worker's.
HAR_DEVTOOLS_OUT (optional, not with HAR_CONTEXT_PER_VISIT): also write there the HAR Chrome
DevTools would export for the same session, built from its Network events (devtools_har.py).
"""

import json
import os
import sys
import time

from playwright.sync_api import sync_playwright

from devtools_har import DevToolsHar


def main() -> int:
    out, visits, urls = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                # Names of the lab resolve to loopback, nothing else is looked up.
                "--host-resolver-rules="
                + os.environ.get("HAR_HOST_RULES", "MAP *.localhost 127.0.0.1"),
            ],
        )
        leave_after = os.environ.get("HAR_LEAVE_AFTER_MS")
        per_visit = bool(os.environ.get("HAR_CONTEXT_PER_VISIT"))
        keep_cache = bool(os.environ.get("HAR_KEEP_CACHE"))
        devtools_out = os.environ.get("HAR_DEVTOOLS_OUT")
        await_js = os.environ.get("HAR_AWAIT_JS")
        devtools = []
        parts = []

        def open_context(path):
            # The lab's certificates are minted by its own CAs: trusted for this context only.
            context = browser.new_context(
                ignore_https_errors=True, record_har_path=path, record_har_content="omit"
            )
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            if devtools_out:
                devtools.append(DevToolsHar(cdp, page.evaluate("navigator.userAgent")))
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": not keep_cache})
            return context, page

        context, page = (None, None) if per_visit else open_context(out)
        for _ in range(visits):
            for url in urls:
                if per_visit:
                    parts.append(f"{out}.{len(parts)}")
                    context, page = open_context(parts[-1])
                try:
                    if leave_after:
                        page.goto(url, wait_until="commit", timeout=30_000)
                        time.sleep(int(leave_after) / 1000)
                    else:
                        page.goto(url, wait_until="load", timeout=30_000)
                    if await_js:
                        page.evaluate(
                            "js => Promise.race([eval(js), new Promise(r => setTimeout(r, 10000))])"
                            ".then(() => true)",
                            await_js,
                        )
                except Exception as e:  # a failed visit is evidence too
                    print(f"visit of {url} failed: {e}", file=sys.stderr)
                if per_visit:
                    context.close()
        if not per_visit:
            if devtools_out:
                devtools[0].write(devtools_out)
            context.close()  # writes the HAR
        else:
            logs = [json.load(open(part, encoding="utf-8"))["log"] for part in parts]
            joined = logs[0]
            joined["pages"] = [pg for log in logs for pg in log.get("pages", [])]
            joined["entries"] = sorted(
                (e for log in logs for e in log["entries"]),
                key=lambda e: e["startedDateTime"],
            )
            with open(out, "w", encoding="utf-8") as f:
                json.dump({"log": joined}, f)
            for part in parts:
                os.remove(part)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
