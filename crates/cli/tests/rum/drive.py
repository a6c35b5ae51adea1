"""Load a page VIEWS times with the system chromium, headless, through Playwright, each view in
a fresh browser context (its own connections, as different users have) with the cache off,
waiting until the page's interloper-django beacon has been answered.

Used by crates/cli/tests/rum_e2e.rs. Only loopback (or the test's own network namespace, when
the test runs this inside it) is contacted: the names given in RUM_HOST_RULES map to the test's
address and Playwright's chromium flags turn off background networking. RUM_SECURE_ORIGIN, when
set, is a plain-HTTP origin chromium treats as secure (a page on a namespace's address is not
`localhost`, and Resource Timing's serverTiming needs a secure context).

usage: drive.py URL VIEWS
"""

import os
import sys

from playwright.sync_api import sync_playwright


def main() -> int:
    url, views = sys.argv[1], int(sys.argv[2])
    sent = 0
    with sync_playwright() as p:
        args = ["--no-sandbox", "--host-resolver-rules=" + os.environ["RUM_HOST_RULES"]]
        if os.environ.get("RUM_SECURE_ORIGIN"):
            args.append("--unsafely-treat-insecure-origin-as-secure=" + os.environ["RUM_SECURE_ORIGIN"])
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        for _ in range(views):
            # The static origin's certificates come from test CAs and a middlebox.
            context = browser.new_context(ignore_https_errors=True)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            try:
                with page.expect_response(
                    lambda r: "/.well-known/interloper/rum" in r.url, timeout=20_000
                ) as beacon:
                    page.goto(url, wait_until="load", timeout=30_000)
                sent += beacon.value.status == 204
            except Exception as e:  # one view lost is reported, not fatal
                print("view failed:", e, file=sys.stderr)
            context.close()
        browser.close()
    print("beacons answered:", sent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
