"""The request state machine on a real Redis: every transition from every state."""

from __future__ import annotations

import itertools

import pytest

from dispatch import events, keys
from dispatch.requests import RequestStore
from dispatch.states import ON_THE_LINE, TERMINAL, TRANSITIONS, WAITING, State

RETENTION = 3600


@pytest.fixture
def store(r) -> RequestStore:
    return RequestStore(r, retention_seconds=RETENTION)


def _in_state(store: RequestStore, state: State) -> str:
    rec = store.create({"channel": "voice", "language": "spa", "caller": "+17185550101"})
    store.r.hset(keys.request(rec.id), "state", state.value)
    return rec.id


@pytest.mark.parametrize("name,state", list(itertools.product(sorted(TRANSITIONS), list(State))))
def test_every_transition_from_every_state(store, name, state):
    request_id = _in_state(store, state)
    before = len(store.history(request_id))
    out = store.apply(request_id, name, fields={"outcome": "x"})
    legal = state in TRANSITIONS[name].sources
    rec = store.get(request_id)
    assert out.applied is legal
    assert out.previous == state
    if legal:
        assert rec.state == TRANSITIONS[name].target
        assert rec.outcome == "x"
        entry = store.history(request_id)[-1]
        assert (entry["event"], entry["from"], entry["to"]) == (name, state.value, rec.state.value)
        assert entry["ts"].endswith("Z")
    else:
        assert rec.state == state, "an illegal event must change nothing"
        assert rec.outcome == ""
        assert len(store.history(request_id)) == before


def test_duplicate_event_applies_once(store):
    request_id = _in_state(store, State.QUEUED)
    assert store.apply(request_id, "offer", fields={"offer_id": "a"}).applied
    assert not store.apply(request_id, "offer", fields={"offer_id": "b"}).applied
    assert store.get(request_id).offer_id == "a"


def test_guard_rejects_a_stale_offer(store):
    request_id = _in_state(store, State.QUEUED)
    store.apply(request_id, "offer", fields={"offer_id": "first"})
    store.apply(request_id, "offer_ended", guard=("offer_id", "first"), fields={"offer_id": None})
    store.apply(request_id, "offer", fields={"offer_id": "second"})
    late = store.apply(request_id, "offer_ended", guard=("offer_id", "first"))
    assert not late.applied
    assert store.get(request_id).state == State.OFFERING
    assert store.apply(request_id, "liaison_connected", guard=("offer_id", "second")).applied


def test_full_life_is_recorded_with_utc_times_and_published(store, r):
    start = events.last_id(r)
    rec = store.create({"channel": "voice", "language": "spa"}, state=State.QUEUED)
    for name in ("offer", "offer_ended", "vendor_dial", "vendor_retry", "vendor_connected", "complete"):
        assert store.apply(rec.id, name).applied, name
    done = store.get(rec.id)
    assert done.state == State.COMPLETED
    assert done.time_to_interpreter is not None and done.time_to_interpreter >= 0
    names = [h["event"] for h in store.history(rec.id)]
    assert names == ["created", "offer", "offer_ended", "vendor_dial", "vendor_retry", "vendor_connected", "complete"]
    published = [e.event for e in events.read(r, after=start) if e.request == rec.id]
    assert published == names


def test_terminal_moves_request_out_of_the_open_index_and_sets_expiry(store, r):
    rec = store.create({"channel": "voice"}, state=State.QUEUED)
    store.set_deadline(rec.id, 1.0)
    assert rec.id in store.open_ids()
    store.apply(rec.id, "abandon")
    assert rec.id not in store.open_ids()
    assert rec.id in store.closed_ids(since=0)
    assert rec.id not in store.due(now=10**10)
    assert 0 < r.ttl(keys.request(rec.id)) <= RETENTION
    assert 0 < r.ttl(keys.history(rec.id)) <= RETENTION


def test_deadlines_drive_the_sweeper_list(store):
    rec = store.create({"channel": "voice"}, state=State.QUEUED)
    store.apply(rec.id, "offer", deadline=100.0)
    assert store.due(now=99.0) == []
    assert store.due(now=100.0) == [rec.id]
    store.apply(rec.id, "liaison_connected", deadline=None)
    assert store.due(now=1000.0) == []


def test_unknown_request_is_not_created_by_a_transition(store, r):
    out = store.apply("R99999", "queue")
    assert not out.applied and out.previous is None
    assert not r.exists(keys.request("R99999"))


def test_state_sets_are_consistent():
    assert WAITING.isdisjoint(TERMINAL) and ON_THE_LINE.isdisjoint(WAITING | TERMINAL)
    assert ON_THE_LINE | WAITING | TERMINAL == set(State)
    for t in TRANSITIONS.values():
        assert not (t.sources & TERMINAL), f"{t.name} leaves a terminal state"


def test_a_late_fact_does_not_resurrect_a_deleted_request(store, r):
    rec = store.create({"channel": "voice"}, state=State.QUEUED)
    assert store.set_fields(rec.id, {"vendor_call": "CA1"})
    r.delete(keys.request(rec.id))
    assert not store.set_fields(rec.id, {"vendor_call": "CA2"})
    assert not r.exists(keys.request(rec.id))


def test_a_dropped_officer_passes_through_rejoining_and_keeps_the_first_connection(store):
    rec = store.create({"channel": "voice", "language": "spa"}, state=State.QUEUED)
    for name in ("vendor_dial", "vendor_connected"):
        assert store.apply(rec.id, name).applied
    first = store.get(rec.id).connected_at
    assert store.apply(rec.id, "officer_dropped", fields={"recall": ""}).applied
    assert not store.apply(rec.id, "officer_dropped").applied, "one drop at a time"
    for waiting_only in ("cancel", "abandon", "fail"):
        assert not store.apply(rec.id, waiting_only).applied, "a sergeant's cancel is for waiting requests"
    assert store.apply(rec.id, "call_officer_back", guard=("recall", ""), fields={"recall": "a"}).applied
    assert not store.apply(rec.id, "call_officer_back", guard=("recall", ""), fields={"recall": "b"}).applied
    assert store.apply(rec.id, "call_back_failed", guard=("recall", "a"), fields={"recall": ""}).applied
    assert not store.apply(rec.id, "call_back_failed", guard=("recall", "a")).applied, "a late status"
    assert store.apply(rec.id, "officer_rejoined").applied
    back = store.get(rec.id)
    assert back.state == State.CONNECTED and back.connected_at == first, "time to interpreter is the first's"
    assert store.apply(rec.id, "officer_dropped").applied
    assert store.apply(rec.id, "rejoin_expired", fields={"outcome": "officer did not rejoin"}).applied
    assert [h["event"] for h in store.history(rec.id)][3:] == [
        "officer_dropped",
        "call_officer_back",
        "call_back_failed",
        "officer_rejoined",
        "officer_dropped",
        "rejoin_expired",
    ]
    assert store.get(rec.id).state == State.COMPLETED and rec.id not in store.open_ids()
