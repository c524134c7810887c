"""Liaisons' time at the domain and dashboard level (issue 18): the booking rules, bookings and
pauses keeping liaisons out of offers, the reminders on a controllable clock, the calendar
feeds, call-outs and their ON, the missed-offer count. Real Redis, the real wiring, a fake phone
network; the texts are the `text_liaison` jobs a worker would send."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from dispatch import clock, events, keys
from dispatch.booking_desk import BookingRefused, Draft
from dispatch.bookings import Booking, BookingStore
from dispatch.sms.service import Inbound
from tests.support.dashboard import open_request, session_for

HOUR = 3600


@pytest.fixture
def at(monkeypatch):
    """`at(epoch)`: the domain's clock stopped at `epoch` (no drift between two looks)."""

    def stop(epoch: float) -> None:
        monkeypatch.setattr(clock, "now", lambda: epoch)

    return stop


def liaison(ctx, liaison_id: str):
    return ctx.roster.liaison(liaison_id)


def texts(jobs, liaison_id: str | None = None) -> list[str]:
    return [args[1] for task, args in jobs.submitted if task == "text_liaison" and liaison_id in (None, args[0])]


def draft(start: float, hours: float = 2.0, languages=("spa",), liaisons=("l-garcia",), title="Corona community base"):
    return Draft(title, "Queens Library at Corona", start, start + hours * HOUR, tuple(languages), tuple(liaisons))


def last_audit(ctx) -> dict[str, str]:
    return events.audit_entries(ctx.redis, count=1)[0]


# --------------------------------------------------------------------------- booking rules
def test_a_booking_is_stored_numbered_and_audited(wiring, ctx):
    desk = wiring.liaison_time.bookings
    made = desk.book(draft(clock.now() + 2 * 24 * HOUR), "sergeant")
    assert made.number == "1" and made.liaisons == ("l-garcia",)
    assert [b.number for b in desk.upcoming()] == ["1"]
    entry = last_audit(ctx)
    assert (entry["who"], entry["action"], entry["target"]) == ("sergeant", "booking_create", "booking 1")
    assert entry["outcome"].startswith("done: Corona community base")


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"languages": ("sqi",)}, "Ana Garcia does not speak Albanian"),
        ({"languages": ("spa", "rus")}, "none of the liaisons booked speaks Russian"),
        ({"liaisons": ("l-haddad",), "languages": ("ara",), "weekend": True}, "Karim Haddad is not on duty"),
        ({"hours": -1}, "the event must end after it starts"),
        ({"title": " "}, "the event needs a title"),
        ({"liaisons": ()}, "book at least one liaison"),
    ],
)
def test_a_booking_that_breaks_a_rule_is_refused_with_the_reason_and_audited(wiring, ctx, change, reason):
    tz = ZoneInfo(ctx.roster.timezone)
    day = datetime.now(tz).date() + timedelta(days=7)
    if change.pop("weekend", False):
        day += timedelta(days=(5 - day.weekday()) % 7)  # a Saturday: Haddad works mon-fri
    start = datetime.combine(day, datetime.min.time(), tz).timestamp() + 10 * HOUR
    with pytest.raises(BookingRefused, match=reason):
        wiring.liaison_time.bookings.book(draft(start, **change), "sergeant")
    assert wiring.liaison_time.bookings.upcoming() == []
    assert last_audit(ctx)["outcome"].startswith(f"refused: {reason}")


def test_an_overlapping_booking_of_the_same_liaison_is_refused(wiring):
    desk = wiring.liaison_time.bookings
    start = clock.now() + 3 * 24 * HOUR
    desk.book(draft(start), "sergeant")
    with pytest.raises(BookingRefused, match="Ana Garcia is booked then: booking 1, Corona community base"):
        desk.book(draft(start + HOUR, title="Forum"), "sergeant")
    other = desk.book(draft(start + HOUR, liaisons=("l-reyes",), title="Forum"), "sergeant")
    assert other.number == "2"


# --------------------------------------------------------------------------- who is offered calls
def test_a_booked_liaison_is_not_a_candidate_during_the_event_and_its_travel_time(wiring, ctx, at):
    offers, buffer = wiring.offers, ctx.settings.booking_travel_minutes * 60
    now = clock.now()
    at(now)
    BookingStore(ctx.redis).add(Booking("", "Forum", "", now + 100, now + 200, ("spa",), ("l-garcia",)))

    def spanish_candidates() -> set[str]:
        return {c.id for c in offers.candidates("spa")}

    assert "l-garcia" in spanish_candidates()  # before the travel time
    for moment in (100 - buffer + 0.01, 150, 200 + buffer - 0.01):
        at(now + moment)
        assert "l-garcia" not in spanish_candidates(), moment
        assert "l-reyes" in spanish_candidates()
    at(now + 200 + buffer + 0.01)
    assert "l-garcia" in spanish_candidates()


def test_two_missed_offers_pause_a_liaison_and_an_answer_starts_the_count_again(wiring, ctx, jobs):
    from dispatch.missed_offers import offer_settled

    offer_settled(ctx, "l-garcia", "no-answer", None)
    offer_settled(ctx, "l-garcia", "accepted", None)
    offer_settled(ctx, "l-garcia", "no-accept", None)  # voicemail picked up: the whisper heard no key
    assert "l-garcia" in {c.id for c in wiring.offers.candidates("spa")}
    offer_settled(ctx, "l-garcia", "busy", None)
    assert "l-garcia" not in {c.id for c in wiring.offers.candidates("spa")}
    offer_settled(ctx, "l-reyes", "dial-failed", None)  # our failure, not theirs
    offer_settled(ctx, "l-reyes", "canceled", None)
    sent = texts(jobs, "l-garcia")
    assert len(sent) == 3 and "Paused after 2 missed calls" in sent[-1]
    assert texts(jobs, "l-reyes") == []
    rows = {row["id"]: row for row in _liaison_rows(wiring)}
    assert rows["l-garcia"]["note"] == "paused after 2 missed calls"
    assert (rows["l-garcia"]["state_label"], rows["l-garcia"]["on_duty"]) == ("Paused", False)
    status = wiring.texts.handle(Inbound(liaison(ctx, "l-garcia").phone, "STATUS", "SM" + "9" * 32))
    assert status == "You are OFF duty (paused after 2 missed calls). Text ON to take calls."
    reply = wiring.texts.handle(Inbound(liaison(ctx, "l-garcia").phone, "ON", "SM" + "1" * 32))
    assert "ON duty" in reply
    assert "l-garcia" in {c.id for c in wiring.offers.candidates("spa")}
    assert ctx.redis.hget(keys.LIAISON_MISSES, "l-garcia") is None


def test_texts_to_one_liaison_are_rate_limited(wiring, ctx, jobs):
    from dispatch.sms.to_liaisons import text_liaison

    sent = [text_liaison(ctx, "l-garcia", f"text {i}") for i in range(ctx.settings.liaison_texts_per_hour + 3)]
    assert sent.count(True) == ctx.settings.liaison_texts_per_hour
    assert text_liaison(ctx, "l-reyes", "another liaison") is True


def _liaison_rows(wiring) -> list[dict]:
    from webhooks.dashboard import snapshot

    return [row.as_dict() for row in snapshot.liaisons(wiring.ctx)]


# --------------------------------------------------------------------------- reminders
def test_reminders_go_the_day_before_and_an_hour_before_once_each(wiring, ctx, jobs, telephony, at):
    from workers.maintenance import remind_bookings

    desk = wiring.liaison_time.bookings
    start = clock.now() + 3 * 24 * HOUR
    made = desk.book(draft(start, liaisons=("l-garcia", "l-reyes")), "sergeant")
    for moment, expected in [
        (start - 24 * HOUR - 60, 0),  # a minute before the day-before reminder
        (start - 24 * HOUR, 2),  # the day before: both liaisons
        (start - 24 * HOUR + 30, 0),  # looked again: nothing twice
        (start - HOUR - 1, 0),
        (start - HOUR, 2),  # an hour before
        (start - 10, 0),
        (start + 10, 0),  # started: no more reminders
    ]:
        at(moment)
        assert remind_bookings() == expected, moment - start  # the periodic job a worker runs
    reminders = texts(jobs, "l-garcia")
    assert reminders == [reminders[0]] * 2
    assert reminders[0].startswith(f"Reminder: booking {made.number}, Corona community base, ")
    assert reminders[0].endswith(f"Reply CANCEL {made.number} if you cannot go.")
    assert "Library" not in reminders[0], "the place is for sergeants only"
    jobs.drain(run=frozenset({"text_liaison"}))
    assert [to for to, _from, _body in telephony.sms].count(liaison(ctx, "l-reyes").phone) == 2


def test_a_booking_made_late_gets_no_day_before_reminder(wiring, jobs, at):
    desk = wiring.liaison_time.bookings
    start = clock.now() + 5 * HOUR
    desk.book(draft(start), "sergeant")
    assert desk.send_reminders() == 0
    at(start - HOUR + 1)
    assert desk.send_reminders() == 1


# --------------------------------------------------------------------------- drop out, cancel
def test_cancel_booking_number_by_text_drops_the_liaison_out_and_sergeants_see_it(wiring, ctx):
    desk = wiring.liaison_time.bookings
    made = desk.book(draft(clock.now() + 2 * 24 * HOUR, liaisons=("l-garcia", "l-reyes")), "sergeant")
    watched = events.last_id(ctx.redis)
    reply = wiring.texts.handle(Inbound(liaison(ctx, "l-garcia").phone, f"cancel {made.number}", "SM" + "2" * 32))
    assert reply.startswith(f"You are out of booking {made.number}")
    kept = BookingStore(ctx.redis).get(made.number)
    assert kept.liaisons == ("l-reyes",) and kept.dropped == ("l-garcia",)
    told = [e for e in events.read(ctx.redis, watched) if e.event == "audit"]
    assert [(e.data["action"], e.data["liaison"]) for e in told] == [("booking_drop_out", "l-garcia")], (
        "every open page redraws its audit list and the liaison's row at once"
    )
    assert last_audit(ctx)["action"] == "booking_drop_out"
    again = wiring.texts.handle(Inbound(liaison(ctx, "l-garcia").phone, f"CANCEL {made.number}", "SM" + "3" * 32))
    assert again.startswith("You are not booked")


# --------------------------------------------------------------------------- calendar feeds
def test_a_feed_parsed_back_gives_the_same_events_and_a_revoked_link_stops(app, client, wiring, ctx):
    desk, feeds = wiring.liaison_time.bookings, wiring.liaison_time.feeds
    start = clock.now() + 2 * 24 * HOUR
    first = desk.book(draft(start), "sergeant")
    second = desk.book(draft(start + 3 * HOUR, liaisons=("l-reyes",), title="Forum on safety"), "sergeant")
    token = feeds.issue("l-garcia")
    resp = client.get(f"/dashboard/calendar/{token}.ics")
    assert resp.status_code == 200 and resp.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(resp.data)
    got = [
        (str(e["summary"]), e.decoded("dtstart").timestamp(), e.decoded("dtend").timestamp(), str(e["uid"]))
        for e in cal.walk("VEVENT")
    ]
    assert got == [("Corona community base", first.start, first.end, "booking-1@127.0.0.1")]
    assert b"Library" not in resp.data, "the place is for sergeants only"
    unit = client.get(f"/dashboard/calendar/{feeds.issue('unit')}.ics")
    titles = [str(e["summary"]) for e in icalendar.Calendar.from_ical(unit.data).walk("VEVENT")]
    assert titles == ["Corona community base", "Forum on safety"] and second.number == "2"
    new = feeds.issue("l-garcia")
    assert client.get(f"/dashboard/calendar/{token}.ics").status_code == 404, "a new link replaces the old"
    feeds.revoke("l-garcia")
    assert client.get(f"/dashboard/calendar/{new}.ics").status_code == 404
    assert client.get("/dashboard/calendar/" + "x" * 43 + ".ics").status_code == 404


def test_the_api_shows_the_place_to_sergeants_only(app, client, wiring):
    wiring.liaison_time.bookings.book(draft(clock.now() + 2 * 24 * HOUR), "sergeant")
    session_for(app, client, "viewer")
    viewer = client.get("/dashboard/api/bookings").get_json()["bookings"]
    assert viewer[0]["title"] == "Corona community base" and "place" not in viewer[0]
    session_for(app, client, "sergeant")
    sergeant = client.get("/dashboard/api/bookings").get_json()["bookings"]
    assert sergeant[0]["place"] == "Queens Library at Corona"


def test_a_sergeant_books_and_cancels_from_the_page_and_a_viewer_may_not(app, client, wiring, ctx):
    tz = ZoneInfo(ctx.roster.timezone)
    day = (datetime.now(tz) + timedelta(days=2)).date().isoformat()
    form = {"title": "Forum", "place": "PS 19", "date": day, "start": "18:30", "end": "20:30", "languages": "spa"}
    csrf = session_for(app, client, "viewer")
    assert client.post("/dashboard/bookings", data=dict(form, liaisons="l-garcia", csrf_token=csrf)).status_code == 403
    csrf = session_for(app, client, "sergeant")
    resp = client.post("/dashboard/bookings", data=dict(form, liaisons="l-garcia", csrf_token=csrf))
    assert resp.status_code == 303
    overnight = client.post(
        "/dashboard/bookings",
        data=dict(form, title="Night forum", start="22:00", end="01:00", liaisons="l-reyes", csrf_token=csrf),
        headers={"Accept": "application/json"},
    ).get_json()["booking"]
    ends = datetime.fromtimestamp(overnight["end"], tz)
    assert (ends.date().isoformat(), ends.hour) == (
        (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat(),
        1,
    ), "an end before the start is the next day's"
    refused = client.post("/dashboard/bookings", data=dict(form, liaisons="l-chen", csrf_token=csrf))
    assert refused.status_code == 409 and "Wei Chen does not speak Spanish" in refused.get_data(as_text=True)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Forum" in page and "PS 19" in page
    assert client.post("/dashboard/bookings/1/cancel", data={"csrf_token": csrf}).status_code == 303
    assert [b.title for b in wiring.liaison_time.bookings.upcoming()] == ["Night forum"]


# --------------------------------------------------------------------------- call-outs
def test_a_call_out_texts_only_off_duty_speakers_once_per_period(app, client, wiring, ctx, jobs):
    for liaison_id in ("l-garcia", "l-reyes"):
        ctx.liaisons.set_duty(liaison_id, False)
    rahman = liaison(ctx, "l-rahman")
    ctx.liaisons.set_duty(rahman.id, False)
    rec = open_request(app, "ben")
    from webhooks.dashboard import snapshot

    rows = {row["id"]: row for row in snapshot.queue(ctx, snapshot.load(ctx)).as_dict()["active"]}
    assert rows[rec.id]["callout_language"] == "ben"
    callable_ = [row["name"] for row in _liaison_rows(wiring) if row["callout"] and "Bengali" in row["languages"]]
    assert callable_ == [rahman.name], "the page counts '1 off-duty liaison speaks Bengali' from these"
    csrf = session_for(app, client, "sergeant")
    assert client.post("/dashboard/callouts/ben", data={"csrf_token": csrf}).status_code == 400  # not confirmed
    assert client.post("/dashboard/callouts/xx", data={"csrf_token": csrf, "confirm": "yes"}).status_code == 404
    assert texts(jobs) == []
    resp = client.post("/dashboard/callouts/ben", data={"csrf_token": csrf, "confirm": "yes"})
    assert resp.status_code == 200 and resp.get_json()["texted"] == 1
    assert texts(jobs) == ["Bengali requests are waiting. Reply ON to take calls now."]
    assert [args[0] for task, args in jobs.submitted if task == "text_liaison"] == [rahman.id]
    again = client.post("/dashboard/callouts/ben", data={"csrf_token": csrf, "confirm": "yes"})
    assert again.status_code == 409 and "called out less than" in again.get_json()["outcome"]
    assert [e["action"] for e in events.audit_entries(ctx.redis, 2)] == ["callout", "callout"]
    wiring.texts.handle(Inbound(rahman.phone, "ON", "SM" + "4" * 32))
    status = ctx.liaisons.status(rahman.id)
    assert status.duty_override == "on"
    until = float(ctx.redis.hget(keys.liaison(rahman.id), "duty_until"))
    local = datetime.fromtimestamp(until, ZoneInfo(ctx.roster.timezone))
    assert (local.hour, local.minute) == (0, 0) and 0 < until - clock.now() <= 24 * HOUR + HOUR


def test_a_call_out_s_on_ends_at_midnight(wiring, ctx, at):
    now = clock.now()
    at(now)
    ctx.liaisons.set_duty("l-rahman", True, until=now + 10)
    assert ctx.liaisons.status("l-rahman").duty_override == "on"
    at(now + 10)
    assert ctx.liaisons.status("l-rahman").duty_override == ""


def test_a_sergeant_s_on_duty_lifts_a_pause(app, client, wiring, ctx):
    from dispatch.missed_offers import offer_settled

    for _ in range(ctx.settings.missed_offers_to_pause):
        offer_settled(ctx, "l-reyes", "no-answer", None)
    assert "l-reyes" not in {c.id for c in wiring.offers.candidates("spa")}
    csrf = session_for(app, client, "sergeant")
    resp = client.post("/dashboard/liaisons/l-reyes/duty", data={"duty": "on", "confirm": "yes", "csrf_token": csrf})
    assert resp.status_code == 200
    assert "l-reyes" in {c.id for c in wiring.offers.candidates("spa")}
    assert [e["action"] for e in events.audit_entries(ctx.redis, 2)] == ["duty_on", "liaison_resumed"]
    assert {row["id"]: row for row in _liaison_rows(wiring)}["l-reyes"]["note"] == ""


def test_a_liaison_s_row_says_where_they_are_booked_today(wiring, ctx, at):
    tz = ZoneInfo(ctx.roster.timezone)
    noon = datetime.combine(datetime.now(tz).date() + timedelta(days=1), datetime.min.time(), tz) + timedelta(hours=12)
    at(noon.timestamp())
    evening = (noon + timedelta(hours=6, minutes=30)).timestamp()
    wiring.liaison_time.bookings.book(draft(evening), "sergeant")  # 6:30 PM until 8:30 PM
    assert {row["id"]: row for row in _liaison_rows(wiring)}["l-garcia"]["note"] == (
        "Booked 6:30 PM-8:30 PM: Corona community base"
    )
    ctx.liaisons.set_duty("l-garcia", False)
    at(evening + HOUR)
    row = {row["id"]: row for row in _liaison_rows(wiring)}["l-garcia"]
    assert row["note"] == "At Corona community base until 8:30 PM"
    assert row["callout"] is False, "a booked liaison is not called out, off duty or not"
    at(evening + 3 * HOUR)
    row = {row["id"]: row for row in _liaison_rows(wiring)}["l-garcia"]
    assert (row["note"], row["callout"]) == ("", True)
