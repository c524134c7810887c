"""Headless Chromium driven by playwright, for the dashboard's browser tests: the page, and the
sign-in a sergeant does (the same as tests/test_e2e_dashboard_browser.py's own)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

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
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does this)",
)


@contextmanager
def chromium_page(width: int = 768, height: int = 1024) -> Iterator[object]:
    """A tab (a tablet, portrait, by default); fails on any JavaScript error the page raised."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": width, "height": height})
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        yield tab
        context.close()
        browser.close()
        assert errors == [], f"JavaScript errors on the page: {errors}"


def sign_in(page, base_url: str, username: str = "sergeant", password: str = "sergeant-demo") -> None:  # type: ignore[no-untyped-def]
    """The sign-in form, then the live page with its event stream connected."""
    page.goto(base_url + "/dashboard")
    assert page.url.endswith("/dashboard/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    page.locator("#live[data-state='live']").wait_for()
