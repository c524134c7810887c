"""Liaisons' time on the real page in headless Chromium, the whole stack running (issue 18): a
sergeant books a liaison and sees it in the panel and on their row; a request's call-out follows
the liaisons' duty live."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.browser import MARKS, tabs

pytestmark = MARKS


@pytest.fixture
def page():
    with tabs() as open_tab:
        yield open_tab({"width": 768, "height": 1024})  # a tablet, portrait


def sign_in(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    """The sign-in form, then the live page with its event stream connected."""
    page.goto(base_url + "/dashboard")
    assert page.url.endswith("/dashboard/signin")
    page.get_by_label("Username").fill("sergeant")
    page.get_by_label("Password").fill("sergeant-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    page.locator("#live[data-state='live']").wait_for()


def test_a_sergeant_books_a_liaison_and_sees_it_on_their_row(stack, page):
    garcia = stack.roster.liaison("l-garcia")
    tz = ZoneInfo(stack.roster.timezone)
    now = datetime.now(tz).replace(second=0, microsecond=0)
    end = now + timedelta(hours=1)  # past midnight, the form's "Until" is the next day's
    until = end.strftime("%I:%M %p").lstrip("0")
    sign_in(page, stack.base_url)

    page.get_by_text("Book liaisons for an event").click()
    form = page.locator("#booking-form")
    form.get_by_label("Title").fill("Corona community base")
    form.get_by_label("Place (sergeants only)").fill("Queens Library at Corona")
    form.get_by_label("Date").fill(now.date().isoformat())
    form.get_by_label("From").fill(now.strftime("%H:%M"))
    form.get_by_label("Until").fill(end.strftime("%H:%M"))
    form.get_by_label("Spanish").check()
    form.get_by_label(garcia.name).check()
    form.get_by_role("button", name="Book").click()
    page.wait_for_url(re.compile(r"/dashboard#bookings$"))

    booking = page.locator("#booking-list li[data-booking]")
    assert booking.count() == 1
    assert "Corona community base" in booking.inner_text() and "Queens Library at Corona" in booking.inner_text()
    note = page.locator(f'#liaison-table tr[data-id="{garcia.id}"] .note')
    note.wait_for()
    assert note.inner_text() == f"At Corona community base until {until}"


def test_a_request_s_call_out_follows_the_liaisons_duty_live(stack, page):
    from dispatch.liaisons import LiaisonBoard
    from dispatch.requests import RequestStore
    from dispatch.states import State

    speaker = next(person for person in stack.roster.liaisons if "ben" in person.languages)
    board = LiaisonBoard(stack.redis)
    board.set_duty(speaker.id, False)
    sign_in(page, stack.base_url)
    precinct = stack.roster.precincts[0]
    waiting = RequestStore(stack.redis, stack.settings.retention_seconds).create(
        {
            "channel": "voice",
            "language": "ben",
            "language_name": "Bengali",
            "caller": precinct.lines[0],
            "caller_kind": "precinct",
            "precinct": precinct.id,
        },
        state=State.QUEUED,
    )  # queued in the store directly: nobody routes it, it stays waiting
    row = page.locator(f'#active tr[data-id="{waiting.id}"]')
    row.locator(".callout").wait_for()
    assert row.locator(".callout").inner_text() == "1 off-duty liaison speaks Bengali"
    assert row.get_by_role("button", name="Text them").count() == 1
    board.set_duty(speaker.id, True)  # back on duty: nobody left to call out
    row.locator(".callout").wait_for(state="detached")
    assert row.get_by_role("button", name="Text them").count() == 0
    board.set_duty(speaker.id, False)
    row.locator(".callout").wait_for()
