"""Load a page VIEWS times with the system chromium, headless, through Playwright, each view in
a fresh browser context (its own connections, as different users have) with the cache off,
waiting until the page's interloper-django beacon has been answered. PARALLEL views are open at
once (default 1): contexts share no connection, so they are as many users at once.

Used by crates/cli/tests/rum_e2e.rs. Only loopback (or the test's own network namespace, when
the test runs this inside it) is contacted: the names given in RUM_HOST_RULES map to the test's
address and Playwright's chromium flags turn off background networking. RUM_SECURE_ORIGIN, when
set, is a plain-HTTP origin chromium treats as secure (a page on a namespace's address is not
`localhost`, and Resource Timing's serverTiming needs a secure context).

usage: drive.py URL VIEWS [PARALLEL]
"""

import asyncio
import os
import sys

from playwright.async_api import async_playwright


async def view(browser, url):
    """One page view; True when its beacon was answered with 204."""
    # The static origin's certificates come from test CAs and a middlebox.
    context = await browser.new_context(ignore_https_errors=True)
    try:
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        async with page.expect_response(
            lambda r: "/.well-known/interloper/rum" in r.url, timeout=20_000
        ) as beacon:
            await page.goto(url, wait_until="load", timeout=30_000)
        return (await beacon.value).status == 204
    except Exception as e:  # one view lost is reported, not fatal
        print("view failed:", e, file=sys.stderr)
        return False
    finally:
        await context.close()


async def main() -> int:
    url, views = sys.argv[1], int(sys.argv[2])
    parallel = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    async with async_playwright() as p:
        args = ["--no-sandbox", "--host-resolver-rules=" + os.environ["RUM_HOST_RULES"]]
        if os.environ.get("RUM_SECURE_ORIGIN"):
            args.append("--unsafely-treat-insecure-origin-as-secure=" + os.environ["RUM_SECURE_ORIGIN"])
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        open_views = asyncio.Semaphore(parallel)

        async def bounded():
            async with open_views:
                return await view(browser, url)

        answered = await asyncio.gather(*(bounded() for _ in range(views)))
        await browser.close()
    print("beacons answered:", sum(answered))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
