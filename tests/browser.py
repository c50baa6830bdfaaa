"""Shared helpers for the browser tests: a local static server and Chromium via Playwright.

Playwright (the Python package) drives Debian's Chromium at /usr/bin/chromium; it never
downloads a browser of its own. Every request to a host other than 127.0.0.1 is blocked
and recorded, so a page that needs the network fails the test instead of hanging.
"""
import contextlib
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]

# Console messages known to be harmless, each with the reason. Anything else fails a test.
# (None at present: the duplicate sphinx-thebe script that used to throw
# "Identifier 'THEBE_JS_URL' has already been declared" is removed by _ext/dedupe_assets.py.)
BENIGN_CONSOLE = {}

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def chromium_path():
    return shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


def require_chromium():
    path = chromium_path()
    if path is None:
        pytest.skip("Debian's chromium is not installed (`make test` installs it with apt-get as root)")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    return path


@contextlib.contextmanager
def static_server(directory):
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def browser_page(width=1280, height=900):
    """Yield (page, log) where log collects console errors, failed and external requests."""
    from playwright.sync_api import sync_playwright

    path = require_chromium()
    log = {"console": [], "failed": [], "external": [], "pageerror": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height})

        def route(r):
            url = r.request.url
            if url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
                r.continue_()
            else:
                log["external"].append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: log["console"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: log["pageerror"].append(str(e)))
        page.on("requestfailed", lambda r: log["failed"].append(f"{r.url} ({r.failure})"))
        try:
            yield page, log
        finally:
            context.close()
            browser.close()


def unexplained(messages):
    """The messages not covered by BENIGN_CONSOLE."""
    return [m for m in messages if not any(key in m for key in BENIGN_CONSOLE)]
