"""A request asking for a female (or male) interpreter: offered only to liaisons of that gender,
otherwise sent to the vendor with the preference in its DTMF; real Redis, fake phone network."""

from __future__ import annotations

import dataclasses

import pytest

from bootstrap import bootstrap
from dispatch import keys
from dispatch.roster import Caller
from dispatch.states import State
from workers import runtime


def caller(ctx) -> Caller:  # type: ignore[no-untyped-def]
    p = ctx.roster.precincts[0]
    return Caller(p.lines[0], "precinct", p.id)


def route(wiring, ctx, jobs, **kw):  # type: ignore[no-untyped-def]
    rec = wiring.intake.open_request(caller(ctx), ctx.catalog.get("spa"), **kw)
    jobs.drain()
    return ctx.requests.get(rec.id)


@pytest.fixture
def garcia_reyes(ctx):  # type: ignore[no-untyped-def]
    garcia, reyes = ctx.roster.liaison("l-garcia"), ctx.roster.liaison("l-reyes")
    assert (garcia.gender, reyes.gender) == ("female", "male") and "spa" in reyes.languages
    ctx.redis.zadd(keys.LIAISONS_AVAILABLE, {reyes.id: 1, garcia.id: 2})  # the male speaker is longest idle
    return garcia, reyes


def test_a_female_preference_rings_the_female_speaker_not_the_longer_idle_male(
    wiring, ctx, jobs, telephony, garcia_reyes
):
    garcia, reyes = garcia_reyes
    rec = route(wiring, ctx, jobs, gender="female")
    assert rec.state == State.OFFERING and rec.offer_liaison == garcia.id and rec.gender == "female"
    assert [c.to for c in telephony.calls] == [garcia.phone]


def test_without_a_preference_the_longest_idle_is_rung_as_before(wiring, ctx, jobs, telephony, garcia_reyes):
    _, reyes = garcia_reyes
    assert route(wiring, ctx, jobs).offer_liaison == reyes.id


def test_no_free_liaison_of_that_gender_goes_to_the_vendor_with_its_code(wiring, ctx, jobs, telephony, garcia_reyes):
    garcia, reyes = garcia_reyes
    ctx.liaisons.set_duty(garcia.id, False)
    rec = route(wiring, ctx, jobs, gender="female")
    assert rec.state == State.VENDOR_DIALING and not rec.gender_unsent
    vendor = ctx.roster.vendor
    [call] = telephony.calls
    assert call.to == vendor.number
    assert call.send_digits == vendor.dtmf_for(ctx.catalog.get("spa").vendor_code, "ww1#")
    assert call.send_digits.endswith("#ww1#")


def test_urgent_with_a_preference_skips_the_liaisons_and_tells_the_vendor(wiring, ctx, jobs, telephony, garcia_reyes):
    rec = route(wiring, ctx, jobs, gender="male", urgent=True)
    assert rec.state == State.VENDOR_DIALING
    assert [c.to for c in telephony.calls] == [ctx.roster.vendor.number]
    assert telephony.calls[0].send_digits.endswith("#ww2#")


def test_a_vendor_without_the_option_gets_no_code_and_the_record_says_so(
    wiring, settings, r, jobs, telephony, garcia_reyes
):
    roster = wiring.ctx.roster
    plain = dataclasses.replace(roster.vendor, dtmf="ww{account}#ww{pin}#ww{language}#", gender_codes={})
    built = bootstrap(
        settings, redis=r, telephony=telephony, jobs=jobs, roster=dataclasses.replace(roster, vendor=plain)
    )
    runtime.use(built)
    garcia, _ = garcia_reyes
    built.ctx.liaisons.set_duty(garcia.id, False)
    rec = route(built, built.ctx, jobs, gender="female")
    assert rec.state == State.VENDOR_DIALING and rec.gender_unsent
    assert telephony.calls[-1].send_digits == plain.dtmf_for(built.ctx.catalog.get("spa").vendor_code)


def test_another_interpreter_for_the_same_interview_keeps_preference_and_incident(wiring, ctx, jobs, garcia_reyes):
    rec = route(wiring, ctx, jobs, gender="female", incident="2026-1", officer_call="CA" + "5" * 32)
    ctx.requests.apply(rec.id, "cancel")
    again = wiring.intake.retry(rec.id, "CA" + "6" * 32)
    assert again is not None and again.id != rec.id
    assert (again.gender, again.incident, again.previous) == ("female", "2026-1", rec.id)
