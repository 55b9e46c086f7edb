"""Shared harness for the browser tests: headless Debian Chromium driven by Playwright, with no network.

Use the ``page`` fixture (import it into the test module: ``from browser import browser, page``). Its
context lets ``file:`` URLs through and aborts every other request before it leaves the machine;
``page.blocked`` lists the aborted URLs and ``page.failed`` the requests that failed (a missing file, say).

The browser is Debian's ``chromium`` package at ``/usr/bin/chromium`` (``apt-get install chromium``); a
browser of Playwright's own (``playwright install``) is never used. Without it the tests are skipped with the
reason, except under CI (the ``CI`` environment variable set), where a missing browser is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required under CI: .ci/run installs Debian's chromium)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    if not CHROMIUM.is_file():
        _unavailable(f"browser tests need Debian's Chromium at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("browser tests need the Python package playwright: pip install -e '.[test]'")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, width: int = 1280, height: int = 900):
    """A page in a fresh context of ``browser`` that can reach nothing but ``file:`` URLs (``page.blocked``,
    ``page.failed`` as above); close it with ``page.context.close()``."""
    context = browser.new_context(viewport={"width": width, "height": height})
    blocked: list[str] = []
    failed: list[str] = []

    def only_files(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    new = context.new_page()
    new.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))
    new.blocked, new.failed = blocked, failed
    return new


@pytest.fixture
def page(browser):
    """A fresh page, 1280x900, that can reach nothing but ``file:`` URLs."""
    new = open_page(browser)
    try:
        yield new
    finally:
        new.context.close()
