"""Headless Chromium for the dashboard's browser tests: playwright driving the system's Chromium."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MARKS = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does this)",
    ),
]


@contextmanager
def tabs() -> Iterator[Callable[[dict[str, int]], Any]]:
    """`open_tab(viewport)` opens a tab of that size (a context of its own each); a JavaScript
    error on any of them fails the test once it is done."""
    from playwright.sync_api import ViewportSize, sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)

        def open_tab(viewport: dict[str, int]):  # type: ignore[no-untyped-def]
            tab = browser.new_context(
                viewport=ViewportSize(width=viewport["width"], height=viewport["height"])
            ).new_page()
            tab.set_default_timeout(10_000)
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            return tab

        try:
            yield open_tab
        finally:
            browser.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@contextmanager
def one_page(width: int, height: int, accept_downloads: bool = False, timeout_ms: int = 10_000) -> Iterator[Any]:
    """One tab in a browser of its own; a JavaScript error on it fails the test once it is done."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, accept_downloads=accept_downloads
            )
            tab = context.new_page()
            tab.set_default_timeout(timeout_ms)
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            yield tab
            context.close()
        finally:
            browser.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
