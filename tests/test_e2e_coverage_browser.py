"""The coverage report in headless Chromium against the service under a real gunicorn: a
commander signs in, opens the report from the live queue, reads the figures, downloads a CSV,
and the printed page keeps the figures and drops the controls."""

from __future__ import annotations

import csv
import re

import pytest

from dispatch.states import State
from tests.support.browser import MARKS, one_page

pytestmark = MARKS


@pytest.fixture
def page():
    with one_page(1366, 768, accept_downloads=True, timeout_ms=15_000) as tab:
        yield tab


def _ended(store, language: str, precinct: str, how: str) -> None:
    rec = store.create({"language": language, "precinct": precinct}, state=State.QUEUED)
    if how == "vendor":
        store.apply(rec.id, "vendor_dial")
        store.apply(rec.id, "vendor_connected", fields={"handler_kind": "vendor"})
        store.apply(rec.id, "complete")
    else:
        store.apply(rec.id, how)


def test_a_commander_opens_the_report_and_downloads_a_csv(app, wiring, gunicorn, page, tmp_path):
    assert app.test_cli_runner().invoke(args=["coverage", "import-acs", "config/acs_b16001.sample.csv"]).exit_code == 0
    store = wiring.ctx.requests
    for how in ("vendor", "abandon", "fail"):
        _ended(store, "hat", "46", how)
    _ended(store, "kor", "109", "abandon")
    server = gunicorn(vendor_rate_per_minute=1.5)

    page.goto(server.url + "/dashboard/coverage")
    assert page.url.endswith("/dashboard/signin")
    page.get_by_label("Username").fill("commander")
    page.get_by_label("Password").fill("commander-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    page.get_by_role("link", name="Coverage report").click()
    page.wait_for_url(re.compile(r"/dashboard/coverage$"))
    assert page.locator("#total-requests").inner_text() == "4"
    first = page.locator("#rows tbody tr").first.locator("th, td").all_inner_texts()
    assert first[:3] == ["46th Precinct", "Haitian Creole", "3"] and first[7] == "3"  # 3 unmet
    assert page.locator("svg.chart").count() == 2

    page.get_by_label("last 7 days").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"period=7"))
    with page.expect_download() as info:
        page.locator("#rows-h + p a.csv").click()
    download = info.value
    assert re.fullmatch(r"coverage-precincts-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with open(saved, newline="") as fh:
        rows = {(r["precinct"], r["language"]): r for r in csv.DictReader(fh)}
    assert set(rows) == {("46", "hat"), ("109", "kor")}
    assert (rows[("46", "hat")]["vendor"], rows[("46", "hat")]["abandoned"], rows[("46", "hat")]["failed"]) == (
        "1",
        "1",
        "1",
    )
    assert rows[("46", "hat")]["limited_english"] != ""  # the sample census covers the 46th's tracts

    page.emulate_media(media="print")
    assert not page.locator("form.periods").is_visible()
    assert page.locator("#rows").is_visible() and page.locator("#priorities").is_visible()
