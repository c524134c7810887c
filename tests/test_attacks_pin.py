"""Attack 14.4: guessing a precinct's unit PIN from strangers' phones.

Performed over HTTP against a real gunicorn, with webhooks signed as Twilio signs every
call placed to the service number (a stranger's call is exactly that). Wrong PINs from
any number count against one budget per precinct; once it is spent, PIN entry for that
precinct is refused for the cool-down, the right PIN too, in words that do not depend on
the PIN; the precinct's own lines and supervisors' cells are not affected; every failure
is logged masked, and the sergeants see an alert.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET

import pytest

from config.phone import mask
from dispatch import keys
from tests.support.stranger import Call, signed_in

BUDGET = 10
STRANGERS = [f"+1347555{n:04d}" for n in range(301, 313)]  # not in the roster
WRONG = [f"8642{n:04d}" for n in range(1, 13)]  # 8 digits: no timestamp or sid holds them


def _at_pin_prompt(server, number: str, precinct: str = "75") -> Call:
    call = Call(server, number)
    call.dial()
    answer = call.key(precinct)
    assert "Enter your unit PIN" in answer.said
    return call


def test_pin_guessing_from_many_phones_locks_pin_entry_not_the_precincts_own_phones(gunicorn, r):
    server = gunicorn(pin_failures_per_hour=BUDGET, pin_lockout_seconds=600.0)
    roster_pin = "7501"  # precinct 75 in config/roster.sample.yaml
    calls = [_at_pin_prompt(server, number) for number in STRANGERS[:11]]
    late = _at_pin_prompt(server, STRANGERS[11])  # an officer already at the prompt
    other = _at_pin_prompt(server, STRANGERS[11], "109")  # another precinct's PIN entry

    answers = [call.key(WRONG[n]) for n, call in enumerate(calls)]
    for answer in answers[: BUDGET - 1]:
        assert "That PIN was not accepted" in answer.said and answer.action, "asked again"
    locked = answers[BUDGET - 1 :]
    for answer in locked:
        assert answer.hangs_up and answer.action is None
        assert "not available right now" in answer.said and "desk sergeant" in answer.said

    # The right PIN during the cool-down: refused, in the very bytes a wrong one gets.
    right = late.key(roster_pin)
    assert right.hangs_up and right.body == locked[-1].body
    # A new call does not even get the PIN prompt for that precinct.
    fresh = Call(server, STRANGERS[5])
    fresh.dial()
    refused = fresh.key("75")
    assert refused.hangs_up and refused.action is None and "not available right now" in refused.said

    # Other precincts keep their own budget; the precinct's lines and supervisors' cells key no PIN.
    assert "language code" in other.key("1090").said
    for number in ("+17185550101", "+19175550110"):  # a line of precinct 75, Sgt. Ortiz's cell (75)
        phone = Call(server, number)
        menu = phone.dial()
        assert "language code" in menu.said and "/voice/incoming/language" in (menu.action or "")
        assert "You selected Spanish" in phone.key("1").said

    # Nothing stored names a caller or a digit keyed; the lock is there for the cool-down.
    ttl = r.pttl(keys.pin_lock("75"))
    assert 590_000 < ttl <= 600_000
    assert not r.exists(keys.pin_failures("75")), "spending the budget starts a fresh one after the cool-down"

    # Each failure logged, masked, never the digits; the lock logged once.
    log = server.log()
    failures = [line for line in log.splitlines() if "wrong PIN for precinct 75" in line]
    assert len(failures) == BUDGET
    for n, line in enumerate(failures):
        assert mask(STRANGERS[n]) in line and f"({n + 1} of {BUDGET} within an hour)" in line
    assert log.count("PIN entry for precinct 75 locked until") == 1
    assert log.count("PIN entry for precinct 75 refused (locked)") == 3  # the 11th, the right PIN, the precinct step
    for number in STRANGERS:
        assert number not in log and number[2:] not in log
    for digits in WRONG:
        assert digits not in log

    # The sergeants' alert: on the events stream, in the dashboard's data and on its live stream.
    pin_events = [
        json.loads(fields[b"data"]) for _id, fields in r.xrange(keys.EVENTS) if fields[b"event"] == b"pin_locked"
    ]
    assert len(pin_events) == 1
    dashboard = signed_in(server, "sergeant", "sergeant-demo")
    alerts = dashboard.get(server.url + "/dashboard/api/alerts", timeout=15).json()["alerts"]
    assert [a["precinct"] for a in alerts] == ["75"]
    alert = alerts[0]
    assert alert == pin_events[0]
    assert alert["precinct_name"] == "75th Precinct" and abs(alert["until"] - (time.time() + 600)) < 60
    assert "PIN entry for 75th Precinct is locked until" in alert["text"]
    snapshot = dashboard.get(server.url + "/dashboard/api/snapshot", timeout=15).json()
    assert snapshot["alerts"] == alerts
    page = dashboard.get(server.url + "/dashboard", timeout=15).text
    assert 'id="alert-list"' in page and '"alerts":[{' in page
    with dashboard.get(server.url + "/dashboard/stream?last=0-0", stream=True, timeout=15) as stream:
        message = None
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("data: ") and '"alert"' in line:
                message = json.loads(line[6:])
                break
    assert message is not None and message["alert"] == alert
    for text in (json.dumps(alerts), json.dumps(pin_events), page):
        for number in STRANGERS:
            assert number not in text and number[2:] not in text


def test_the_budget_recovers_after_the_cool_down(gunicorn, r):
    lockout = 1.0
    server = gunicorn(pin_failures_per_hour=3, pin_lockout_seconds=lockout)
    answers = [_at_pin_prompt(server, STRANGERS[n]).key(WRONG[n]) for n in range(3)]
    assert answers[-1].hangs_up and "not available right now" in answers[-1].said
    deadline = time.monotonic() + lockout + 10.0  # the key's own expiry, plus a loaded machine's slack
    while r.exists(keys.pin_lock("75")):
        assert time.monotonic() < deadline, "the lock outlived its cool-down"
        time.sleep(0.05)
    # A fresh budget: a wrong PIN is asked again (1 of 3), then the right one is accepted.
    call = _at_pin_prompt(server, STRANGERS[3])
    again = call.key(WRONG[3])
    assert "That PIN was not accepted" in again.said and again.action
    assert "language code" in call.key("7501").said
    assert "wrong PIN for precinct 75 (1 of 3 within an hour)" in server.log()


def test_a_timeout_at_the_pin_prompt_is_not_a_guess(gunicorn, r):
    server = gunicorn(pin_failures_per_hour=2, pin_lockout_seconds=600.0)
    for number in STRANGERS[:4]:
        call = _at_pin_prompt(server, number)
        assert "That PIN was not accepted" in call.key("").said  # Twilio posts empty Digits on a timeout
    assert not r.exists(keys.pin_lock("75")) and not r.exists(keys.pin_failures("75"))
    assert "language code" in _at_pin_prompt(server, STRANGERS[5]).key("7501").said


def test_with_redis_down_the_pin_is_still_checked_and_a_wrong_one_never_reaches_the_vendor(ctx, telephony, jobs):
    """PIN entry must not become a way in when the budget cannot be counted: the right PIN
    still identifies an officer (the call then goes to the vendor as in any Redis outage),
    a wrong one is asked again — never the vendor's number for a stranger."""
    from dispatch.context import Context
    from dispatch.redis_conn import connect
    from tests.support.redis_server import free_port
    from tests.support.signing import signed_post
    from webhooks import create_app

    dead = Context(
        ctx.settings, connect(f"redis://127.0.0.1:{free_port()}/0"), ctx.roster, ctx.catalog, telephony, jobs
    )
    client = create_app(context=dead).test_client()
    vendor = ctx.roster.vendor
    params = {"CallSid": "CA" + "d" * 32, "From": STRANGERS[0], "AccountSid": ctx.settings.twilio_account_sid}
    for digits in ("0000", "75017501", ""):
        resp = signed_post(client, ctx.settings, "/voice/incoming/pin?p=75&t=0", dict(params, Digits=digits))
        root = ET.fromstring(resp.data)
        assert resp.status_code == 200 and root.find("Dial") is None
        assert vendor.number.encode() not in resp.data and vendor.account.encode() not in resp.data
        assert "not accepted" in " ".join(s.text or "" for s in root.iter("Say"))
    ok = signed_post(client, ctx.settings, "/voice/incoming/pin?p=75&t=0", dict(params, Digits="7501"))
    assert b"language code" in ok.data


@pytest.mark.parametrize("budget", [1, 4])
def test_concurrent_guesses_spend_the_budget_exactly_once(ctx, budget):
    """Many web threads keying wrong PINs at once: the lock is set (and announced) once,
    at exactly the budget, and every later guess is refused uncounted."""
    from concurrent.futures import ThreadPoolExecutor

    from dispatch.pin_guard import PinGuard

    guard = PinGuard(ctx.redis, ctx.roster, budget, 600.0)
    with ThreadPoolExecutor(8) as pool:
        checks = list(pool.map(lambda n: guard.check("75", f"9{n:07d}"), range(40)))
    assert not any(c.accepted for c in checks)
    assert sum(1 for c in checks if c.counted) == budget
    assert sum(1 for c in checks if c.counted and c.locked_until) == 1
    assert len([e for _i, e in ctx.redis.xrange(keys.EVENTS) if e[b"event"] == b"pin_locked"]) == 1
    assert guard.check("75", "7501").locked_until is not None, "the right PIN too, during the cool-down"
    assert [lock.precinct for lock in guard.locks()] == ["75"]
