"""Record a HAR of pages with the system chromium, headless, through Playwright.

Used by crates/cli/tests/har_e2e.rs: the lab's pages are visited several times with the
browser cache disabled (each visit fetches every file again) and the recording is written as
Playwright writes it (`record_har_path`). Only loopback is contacted: the lab's names
(app-N.localhost) resolve to loopback, and Playwright's chromium flags turn off background
networking.

usage: record_har.py OUT.har VISITS URL [URL…]
"""

import sys

from playwright.sync_api import sync_playwright


def main() -> int:
    out, visits, urls = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                # Names of the lab resolve to loopback, nothing else is looked up.
                "--host-resolver-rules=MAP *.localhost 127.0.0.1, EXCLUDE 127.0.0.1",
            ],
        )
        # The lab's certificates are minted by its own CAs: trusted for this context only.
        context = browser.new_context(
            ignore_https_errors=True, record_har_path=out, record_har_content="omit"
        )
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        for _ in range(visits):
            for url in urls:
                try:
                    page.goto(url, wait_until="load", timeout=30_000)
                except Exception as e:  # a failed visit is evidence too
                    print(f"visit of {url} failed: {e}", file=sys.stderr)
        context.close()  # writes the HAR
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
