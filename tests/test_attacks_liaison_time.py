"""Attacks on liaisons' time over HTTP against a real gunicorn (issue 18): a calendar feed is
read only with its current secret link, and no booking, call-out or feed link is made without
a sergeant's session and CSRF token."""

from __future__ import annotations

import requests

from dispatch import clock, events
from dispatch.bookings import Booking, BookingStore
from dispatch.calendar_feeds import CalendarFeeds
from tests.support.dashboard_http import Browser


def _book(r) -> Booking:
    now = clock.now()
    return BookingStore(r).add(
        Booking("", "Corona community base", "Queens Library", now + 86400, now + 90000, ("spa",), ("l-garcia",))
    )


def test_a_feed_opens_only_with_its_current_link(gunicorn, r):
    server = gunicorn()
    _book(r)
    feeds = CalendarFeeds(r)
    token = feeds.issue("unit")
    url = server.url + "/dashboard/calendar/{}.ics"
    ok = requests.get(url.format(token), timeout=30)
    assert ok.status_code == 200 and ok.text.startswith("BEGIN:VCALENDAR") and "Corona community base" in ok.text
    assert "Queens Library" not in ok.text
    for guess in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 43, "a" * 200, "../api/queue", "%00"):
        resp = requests.get(url.format(guess), timeout=30)
        assert resp.status_code == 404, guess[:20]
        assert "VCALENDAR" not in resp.text and "Corona" not in resp.text
    too_long = requests.get(url.format("a" * 5000), timeout=30)
    assert too_long.status_code in (404, 414) and "VCALENDAR" not in too_long.text  # gunicorn's own line limit
    feeds.revoke("unit")
    assert requests.get(url.format(token), timeout=30).status_code == 404


def test_no_booking_call_out_or_feed_link_without_a_sergeant_s_session_and_csrf(gunicorn, r):
    server = gunicorn()
    day = clock.utc_datetime(clock.now() + 2 * 86400).date().isoformat()
    booking = {
        "title": "Forum",
        "date": day,
        "start": "10:00",
        "end": "11:00",
        "languages": "spa",
        "liaisons": "l-garcia",
    }
    attempts = [
        ("/dashboard/bookings", booking),
        ("/dashboard/callouts/spa", {"confirm": "yes"}),
        ("/dashboard/calendar-feeds", {"feed": "unit", "do": "issue"}),
        ("/dashboard/bookings/1/cancel", {}),
    ]
    for path, form in attempts:  # nobody signed in
        assert requests.post(server.url + path, data=form, timeout=30).status_code == 401, path
    viewer = Browser(server.url)
    assert viewer.sign_in("viewer").status_code in (302, 303)
    for path, form in attempts:  # a viewer, with the page's CSRF token
        assert viewer.act(path, **form).status_code == 403, path
    sergeant = Browser(server.url)
    assert sergeant.sign_in("sergeant").status_code in (302, 303)
    for path, form in attempts:  # a sergeant's session without the CSRF token (a forged form)
        resp = sergeant.post(server.url + path, data=form, timeout=30, allow_redirects=False)
        assert resp.status_code == 400, path
    assert BookingStore(r).ending_after(0) == [] and CalendarFeeds(r).issued() == set()
    assert [e for e in events.audit_entries(r) if e["action"] in ("booking_create", "callout")] == []
