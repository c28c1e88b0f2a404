"""Debian's Chromium, as every browser test drives it (Playwright's sync API).

One Playwright and one browser serve a test process (the ``chromium`` fixture in
``tests/conftest.py``): Playwright's sync API cannot start a second instance while one
runs in the same thread ("using Playwright Sync API inside the asyncio loop").
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
