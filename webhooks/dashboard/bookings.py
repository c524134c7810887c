"""Liaisons' time on the dashboard (issue 18): bookings (the panel, make and cancel), call-outs,
and the calendar feeds (their secret links, and the feeds themselves).

A booking's place is for sergeants only: the panel and the JSON API show it to the sergeant
role, never to viewers, API tokens, feeds or texts. Every action is audited by the services
(dispatch.booking_desk, dispatch.callouts); the feed links are audited here.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Response, abort, g, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse  # what redirect() returns

from dispatch import calendar_ics, clock, events
from dispatch.booking_desk import KEEP_ENDED, BookingRefused, Draft
from dispatch.bookings import Booking
from dispatch.calendar_feeds import UNIT
from dispatch.sms.to_liaisons import clock_time, local
from webhooks.dashboard.auth import SERGEANT, post, reader
from webhooks.dashboard.blueprint import bp
from webhooks.deps import ctx, settings, wiring

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}")
_NUMBER = re.compile(r"[0-9]{1,9}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")
_LANGUAGE = re.compile(r"[a-z]{2,8}")
PANEL_DAYS = 14


def _language_name(code: str) -> str:
    found = ctx().catalog.get(code)
    return found.name if found else code


def _liaison_name(liaison_id: str) -> str:
    found = ctx().roster.liaison(liaison_id)
    return found.name if found else liaison_id


def _shown(b: Booking, with_place: bool) -> dict[str, Any]:
    """A booking as the panel and the API show it: names, the local times, the place to sergeants."""
    desk = wiring().liaison_time.bookings
    start = local(ctx(), b.start)
    return {
        **b.as_dict(with_place),
        "when": f"{start:%a %b} {start.day}, {clock_time(ctx(), b.start)}-{clock_time(ctx(), b.end)}",
        "summary": desk.describe(b),
        "language_names": [_language_name(code) for code in b.languages],
        "liaison_names": [_liaison_name(i) for i in b.liaisons],
        "dropped_names": [_liaison_name(i) for i in b.dropped],
    }


def panel() -> dict[str, Any]:
    """What the bookings panel of the page draws (dashboard/_bookings.html)."""
    c = ctx()
    sergeant = g.user.role == SERGEANT
    languages = sorted({code for liaison in c.roster.liaisons for code in liaison.languages}, key=_language_name)
    return {
        "days": PANEL_DAYS,
        "bookings": [_shown(b, sergeant) for b in wiring().liaison_time.bookings.upcoming(PANEL_DAYS)],
        "liaisons": [{"id": liaison.id, "name": liaison.name} for liaison in c.roster.liaisons],
        "languages": [{"id": code, "name": _language_name(code)} for code in languages],
        "feeds": sorted(wiring().liaison_time.feeds.issued()) if sergeant else [],
        "today": local(c).date().isoformat(),
        "timezone": c.roster.timezone,
    }


@bp.context_processor
def _bookings_panel() -> dict[str, Any]:
    return {"bookings_panel": panel}


def _notice(title: str, message: str, status: int = 200, link: str = "") -> Response:
    html = render_template("dashboard/notice.html", title=title, message=message, link=link)
    return Response(html, status=status, mimetype="text/html")


def _epoch(day: str, hhmm: str) -> float:
    if not _DATE.fullmatch(day) or not _TIME.fullmatch(hhmm):
        raise BookingRefused("give the date as YYYY-MM-DD and the times as HH:MM")
    try:
        naive = datetime.fromisoformat(f"{day}T{hhmm}")
    except ValueError:
        raise BookingRefused(f"{day} {hhmm} is not a date and time") from None
    return naive.replace(tzinfo=ZoneInfo(ctx().roster.timezone)).timestamp()


@bp.post("/bookings")
@post(SERGEANT)
def book() -> Response | WerkzeugResponse:
    form = request.form
    try:
        day = form.get("date", "")
        start, end = _epoch(day, form.get("start", "")), _epoch(day, form.get("end", ""))
        if end <= start:  # "22:00 until 01:00": the event ends the next day
            end = _epoch((date.fromisoformat(day) + timedelta(days=1)).isoformat(), form.get("end", ""))
        draft = Draft(
            title=form.get("title", "")[:200],
            place=form.get("place", "")[:400],
            start=start,
            end=end,
            languages=tuple(dict.fromkeys(x for x in form.getlist("languages")[:20] if _LANGUAGE.fullmatch(x))),
            liaisons=tuple(dict.fromkeys(x[:64] for x in form.getlist("liaisons")[:50])),
        )
        made = wiring().liaison_time.bookings.book(draft, g.user.username)
    except BookingRefused as exc:
        if request.accept_mimetypes.best == "application/json":
            return jsonify(ok=False, outcome=f"refused: {exc}"), 409  # type: ignore[return-value]
        return _notice("Booking refused", f"Not booked: {exc}.", 409)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(ok=True, booking=_shown(made, True))
    return redirect(url_for("dashboard.index") + "#bookings", code=303)


@bp.post("/bookings/<number>/cancel")
@post(SERGEANT)
def cancel_booking(number: str) -> WerkzeugResponse:
    if not _NUMBER.fullmatch(number):
        abort(404, description="no such booking")
    done = wiring().liaison_time.bookings.cancel(number, g.user.username)
    if done is None:
        abort(409, description="no such booking still on")
    return redirect(url_for("dashboard.index") + "#bookings", code=303)


@bp.get("/api/bookings")
@reader
def api_bookings() -> Response:
    """Today's and the next 14 days' bookings; the place only for a sergeant's session."""
    sergeant = g.user.role == SERGEANT
    return jsonify(bookings=[_shown(b, sergeant) for b in wiring().liaison_time.bookings.upcoming(PANEL_DAYS)])


@bp.post("/callouts/<language>")
@post(SERGEANT)
def callout(language: str) -> Response:
    if not _LANGUAGE.fullmatch(language) or ctx().catalog.get(language) is None:
        abort(404, description="no such language")
    if request.form.get("confirm") != "yes":  # the page asks first, as for every action
        abort(400, description="confirmation required")
    result = wiring().liaison_time.callouts.call_out(language, g.user.username)
    resp = jsonify(
        ok=not result.refused,
        action="callout",
        target=language,
        texted=len(result.texted),
        outcome=f"refused: {result.refused}" if result.refused else f"texted {len(result.texted)}",
    )
    resp.status_code = 409 if result.refused else 200
    return resp


@bp.post("/calendar-feeds")
@post(SERGEANT)
def calendar_feed_link() -> Response:
    """Issue a feed's secret link (shown once; the old one stops working), or revoke it."""
    feed = request.form.get("feed", "")[:64]
    if feed != UNIT and ctx().roster.liaison(feed) is None:
        abort(404, description="no such feed")
    feeds = wiring().liaison_time.feeds
    name = "the unit" if feed == UNIT else _liaison_name(feed)
    if request.form.get("do") == "revoke":
        done = feeds.revoke(feed)
        events.audit(ctx().redis, g.user.username, "calendar_feed_revoke", feed, "done" if done else "refused: none")
        return _notice("Calendar link revoked", f"The calendar link for {name} no longer works.")
    token = feeds.issue(feed)
    events.audit(ctx().redis, g.user.username, "calendar_feed_issue", feed, "done")
    link = settings().public_base_url.rstrip("/") + url_for("dashboard.calendar_feed", token=token)
    return _notice(
        "Calendar link",
        f"The calendar link for {name}, shown this once (any earlier link no longer works). "
        "Anyone with it can read these bookings: give it only to whom it is for.",
        link=link,
    )


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str) -> Response:
    """A feed by its secret link: no session (calendar apps cannot sign in)."""
    feeds = wiring().liaison_time.feeds
    feed = feeds.feed_for(token) if _TOKEN.fullmatch(token) else None
    if feed is None:
        abort(404, description="no such calendar")
    desk = wiring().liaison_time.bookings
    bookings = desk.upcoming(days=366, now=clock.now() - KEEP_ENDED)  # a month back, a year ahead
    if feed != UNIT:
        bookings = [b for b in bookings if feed in b.liaisons]
    name = "Liaison bookings" if feed == UNIT else f"Bookings: {_liaison_name(feed)}"
    domain = urlsplit(settings().public_base_url).hostname or "dispatch"
    body = calendar_ics.render(bookings, name, domain, _language_name, _liaison_name)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})
