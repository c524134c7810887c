"""The receipt in headless Chromium against the whole running stack: an officer keys an
incident number at the read-back, the vendor's interpreter leaves, the officer keys the
interpreter's ID; the sergeant opens the receipt from the finished row, sees both, and prints
it: the print layout shows the receipt alone (no navigation, no form) on one page."""

from __future__ import annotations

import re

import pytest

from dispatch.languages import default_catalog
from dispatch.states import State
from tests.support.browser import MARKS, one_page

pytestmark = MARKS


@pytest.fixture
def page():
    with one_page(1366, 768) as tab:  # the sergeant's laptop
        yield tab


def sign_in(page, stack) -> None:  # type: ignore[no-untyped-def]
    page.goto(stack.base_url + "/dashboard")
    page.get_by_label("Username").fill("sergeant")
    page.get_by_label("Password").fill("sergeant-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard$"))


def test_the_receipt_shows_what_was_keyed_and_prints_alone_on_one_page(stack, page):
    vendor = stack.roster.vendor
    code = vendor.language_codes.get("tir") or default_catalog().get("tir").vendor_code
    digits = vendor.dtmf_for(code, vendor.gender_code("") or "")
    stack.sim.set_parties(
        {vendor.number: {"answer": "after", "answer_after": 0.1, "expect_send_digits": digits, "hangup_after": 1.0}}
    )
    stack.sim.place_call(
        stack.roster.precincts[0].lines[0],
        stack.roster.service_number,
        inputs=[
            {"digits": default_catalog().get("tir").keypad + "#"},
            {"digits": "5"},
            {"digits": "2026012345#"},
            {"digits": "1"},
            {"digits": "2"},
            {"digits": "4711#"},
        ],
    )
    rec = stack.wait_request(lambda r: r.interpreter_ref == "4711", timeout=20, what="request with an interpreter ID")
    assert rec.state == State.COMPLETED

    sign_in(page, stack)
    page.locator(f"#finished tbody tr[data-id='{rec.id}'] a").click()
    page.wait_for_url(re.compile(rf"/dashboard/requests/{rec.id}/receipt$"))
    assert page.locator("#r-incident").inner_text() == "2026012345"
    assert page.locator("#r-interpreter-id").inner_text() == "4711"
    assert "interpretation line" in page.locator("#r-interpreter").inner_text()
    assert re.fullmatch(r"\d+:\d\d", page.locator("#r-wait").inner_text())
    assert page.locator("script").count() == 0

    # A correction through the form, as a sergeant would make it.
    page.get_by_label("Interpreter ID").fill("4712")
    page.get_by_role("button", name="Save").click()
    page.locator(".note").wait_for()
    assert page.locator(".note").inner_text() == "Saved."
    assert page.locator("#r-interpreter-id").inner_text() == "4712"

    # The print layout: the receipt alone, on one page.
    page.emulate_media(media="print")
    assert page.locator("#receipt").is_visible() and page.locator("#r-incident").is_visible()
    assert not page.locator(".receipt-nav").is_visible() and not page.locator("form").is_visible()
    assert not page.locator(".note").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "the receipt prints on one page"
