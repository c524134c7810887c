"""The reconciler at the domain level: real Redis, fake phone network, the clock moved on.

What it closes (the network says the calls ended), what it must never close (anything
the network says is live, a request that moved on, states it does not know), and what
it does for the people on the line: the liaison freed, ringing phones stopped, an
officer still in the room told the interpreter left.
"""

from __future__ import annotations

import pytest

from config.errors import ConfigError
from config.settings import Settings
from dispatch import events, keys
from dispatch import urls as paths
from dispatch.liaisons import IDLE, ON_CALL, RINGING, WRAPUP
from dispatch.queue_view import _outcome
from dispatch.reconcile import LEASE
from dispatch.roster import Caller
from dispatch.settings import offer_bound
from dispatch.states import State
from dispatch.telephony import TelephonyError

OFFICER = "CA" + "0f" * 16


@pytest.fixture
def d(wiring):
    return wiring


def _offered(d, ctx, jobs, telephony, officer: str = OFFICER):
    p = ctx.roster.precincts[0]
    ctx.redis.zadd(
        keys.LIAISONS_AVAILABLE, {next(liaison.id for liaison in ctx.roster.liaisons if "spa" in liaison.languages): 0}
    )
    rec = d.intake.open_request(Caller(p.lines[0], "precinct", p.id), ctx.catalog.get("spa"), officer_call=officer)
    jobs.drain()
    telephony.statuses[officer] = "in-progress"
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.OFFERING and rec.offer_call
    return rec


def _connected(d, ctx, jobs, telephony, officer: str = OFFICER):
    rec = _offered(d, ctx, jobs, telephony, officer)
    assert (
        d.offer_outcomes.offer_reply(rec.id, rec.offer_id, rec.offer_liaison, "1", rec.offer_call).reply.value
        == "accepted"
    )
    rec = ctx.requests.get(rec.id)
    assert rec.state == State.CONNECTED and ctx.liaisons.status(rec.handler_id).state == ON_CALL
    return rec


def _events(ctx, rec) -> list[str]:
    return [h["event"] for h in ctx.requests.history(rec.id)]


def test_a_connected_request_whose_calls_ended_is_closed_and_its_liaison_freed(d, ctx, jobs, telephony, later):
    rec = _connected(d, ctx, jobs, telephony)
    telephony.statuses.update({rec.handler_call: "completed", OFFICER: "completed"})  # both callbacks lost
    later(ctx.settings.reconcile_seconds)
    assert d.reconciler.run() == 1
    done = ctx.requests.get(rec.id)
    assert done.state == State.COMPLETED and done.outcome == "ended (reconciled)"
    last = ctx.requests.history(rec.id)[-1]
    assert (last["event"], last["from"], last["to"]) == ("reconcile_complete", "connected", "completed")
    assert last["data"] == {"ended_by": "reconciled", "interpreter_call": "completed", "officer_call": "completed"}
    assert ctx.liaisons.status(rec.handler_id).state == WRAPUP, "freed, after the usual wrap-up"
    assert rec.id not in ctx.requests.open_ids()
    assert not [t for t, _ in jobs.submitted if t == "tell_caller"], "nobody is left on the line to tell"
    assert _outcome(done) == "Completed (liaison, reconciled)"


def test_the_officer_still_in_the_room_is_told_the_interpreter_left(d, ctx, jobs, telephony, later):
    rec = _connected(d, ctx, jobs, telephony)
    telephony.statuses[rec.handler_call] = "completed"
    telephony.rooms[rec.conference] = [OFFICER]
    later(ctx.settings.reconcile_seconds)
    assert d.reconciler.run() == 1
    assert ("tell_caller", (rec.id, paths.DROPPED)) in jobs.submitted
    assert ctx.requests.history(rec.id)[-1]["data"]["officer_call"] == "in-progress"


def test_what_the_network_says_is_live_is_never_closed(d, ctx, jobs, telephony, later):
    rec = _connected(d, ctx, jobs, telephony)
    reconciler = d.reconciler
    later(ctx.settings.reconcile_seconds - 1)
    assert reconciler.run() == 0 and telephony.fetched == [], "not asked before its bound"
    later(ctx.settings.reconcile_seconds)
    assert reconciler.run() == 0  # both legs on the line
    assert telephony.fetched == [rec.handler_call, OFFICER]
    telephony.statuses[rec.handler_call] = "completed"
    telephony.rooms[rec.conference] = [rec.handler_call]  # yet still in the room: the answers disagree
    assert reconciler.run() == 0
    assert ctx.requests.get(rec.id).state == State.CONNECTED and _events(ctx, rec)[-1] == "liaison_connected"
    assert ctx.liaisons.status(rec.handler_id).state == ON_CALL


def test_an_officer_s_drop_whose_callbacks_were_lost_is_handled_as_a_drop_not_closed(d, ctx, jobs, telephony, later):
    """The interpreter is on, the officer's leg has ended and left the room, and the service
    never heard: the interpreter is asked (rejoin.py) as for a drop it heard, and the grace
    bounds the rest; the request is not closed while an interpreter is on the line."""
    rec = _connected(d, ctx, jobs, telephony)
    telephony.statuses[OFFICER] = "completed"
    telephony.rooms[rec.conference] = [rec.handler_call]
    later(ctx.settings.reconcile_seconds)
    assert d.reconciler.run() == 0
    now = ctx.requests.get(rec.id)
    assert now.state == State.REJOINING and now.dropped_call == OFFICER
    assert [t for t, _ in jobs.submitted if t == "rejoin_dropped"] == ["rejoin_dropped"]
    assert ctx.liaisons.status(rec.handler_id).state == ON_CALL, "still on the line with the officer's room"
    assert d.reconciler.run() == 0 and [t for t, _ in jobs.submitted if t == "rejoin_dropped"] == ["rejoin_dropped"]


def test_a_late_callback_that_gets_there_first_wins_and_nothing_happens_twice(
    d, ctx, jobs, telephony, later, monkeypatch
):
    rec = _connected(d, ctx, jobs, telephony)
    telephony.statuses[rec.handler_call] = "completed"
    asked = telephony.fetch_call

    def the_callback_arrives_meanwhile(sid: str):
        if sid == rec.handler_call:
            d.offer_outcomes.offer_call_ended(rec.id, rec.offer_id, rec.handler_id, sid, "completed")
        return asked(sid)

    monkeypatch.setattr(telephony, "fetch_call", the_callback_arrives_meanwhile)
    start = events.last_id(ctx.redis)
    later(ctx.settings.reconcile_seconds)
    assert d.reconciler.run() == 0
    assert _events(ctx, rec)[-1] == "complete" and "reconcile_complete" not in _events(ctx, rec)
    freed = [e for e in events.read(ctx.redis, after=start) if e.event == "liaison_free"]
    assert len(freed) == 1, "the liaison is freed once"


def test_a_waiting_request_whose_officer_hung_up_is_abandoned_and_its_phone_stopped(d, ctx, jobs, telephony, later):
    rec = _offered(d, ctx, jobs, telephony)
    later(offer_bound(ctx.settings))
    assert d.reconciler.run() == 0, "the officer is still on the line"
    telephony.statuses[OFFICER] = "completed"
    assert d.reconciler.run() == 1
    done = ctx.requests.get(rec.id)
    assert done.state == State.ABANDONED and done.outcome == "Caller hung up (reconciled)"
    assert _events(ctx, rec)[-1] == "reconcile_abandon"
    assert ("hang_up", (rec.id, rec.offer_call)) in jobs.submitted
    assert ctx.liaisons.status(rec.offer_liaison).state == IDLE


def test_states_it_does_not_know_are_left_alone(d, ctx, jobs, telephony, later):
    p = ctx.roster.precincts[0]
    queued = ctx.requests.create(
        {"channel": "voice", "language": "spa", "officer_call": OFFICER, "caller": p.lines[0], "precinct": p.id},
        state=State.QUEUED,
    )
    new = ctx.requests.create({"channel": "sms", "language": "spa", "officer_call": "CA" + "1" * 32}, state=State.NEW)
    later(10 * ctx.settings.reconcile_seconds)
    assert d.reconciler.run() == 0
    assert telephony.fetched == []
    assert ctx.requests.get(queued.id).state == State.QUEUED and ctx.requests.get(new.id).state == State.NEW


def test_a_network_that_refuses_one_question_does_not_stop_the_others(d, ctx, jobs, telephony, later, monkeypatch):
    first = _connected(d, ctx, jobs, telephony)
    second = _connected(d, ctx, jobs, telephony, officer="CA" + "2" * 32)
    telephony.statuses.update({first.handler_call: "completed", second.handler_call: "completed"})
    asked = telephony.fetch_call

    def refuse_the_first(sid: str):
        if sid == first.handler_call:
            raise TelephonyError("fetch call: 500 after 3 tries", status=500)
        return asked(sid)

    monkeypatch.setattr(telephony, "fetch_call", refuse_the_first)
    later(ctx.settings.reconcile_seconds)
    assert d.reconciler.run() == 1
    assert ctx.requests.get(first.id).state == State.CONNECTED, "asked again next run"
    assert ctx.requests.get(second.id).state == State.COMPLETED


def test_one_run_at_a_time(d, ctx, jobs, telephony, later):
    rec = _connected(d, ctx, jobs, telephony)
    telephony.statuses[rec.handler_call] = "completed"
    later(ctx.settings.reconcile_seconds)
    assert d.leases.take(LEASE, "another worker", 30)
    assert d.reconciler.run() == 0 and telephony.fetched == []
    d.leases.give_back(LEASE, "another worker")
    assert d.reconciler.run() == 1
    assert d.leases.take(LEASE, "the next run", 30), "a run gives its turn back"


def test_the_reconciler_runs_every_reconcile_seconds_and_at_each_worker_start(settings):
    from adapters.rq_jobs import TASKS
    from workers.schedule import Periodic, periodic_jobs

    assert Settings().reconcile_seconds == 60
    assert Settings.from_env({"RECONCILE_SECONDS": "5"}).reconcile_seconds == 5
    with pytest.raises(ConfigError, match="RECONCILE_SECONDS"):
        Settings.from_env({"RECONCILE_SECONDS": "0"})
    assert Periodic("reconcile", settings.reconcile_seconds) in periodic_jobs(settings)
    assert TASKS["reconcile"] == "workers.maintenance.reconcile"


def test_an_overdue_offer_whose_officer_still_waits_is_left_to_the_sweeper(d, ctx, jobs, telephony, later):
    """Offering longer than its bound while the officer waits: the sweeper's to time out."""
    rec = _offered(d, ctx, jobs, telephony)
    later(offer_bound(ctx.settings) + 1)
    assert d.reconciler.run() == 0
    assert ctx.requests.get(rec.id).state == State.OFFERING
    assert ctx.liaisons.status(rec.offer_liaison).state == RINGING
