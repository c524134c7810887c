"""Reading a request record from its Redis hash: typed fields, tolerant of what it does not know."""

from __future__ import annotations

from dispatch.records import RequestRecord
from dispatch.states import State


def test_every_field_is_read_with_its_type():
    rec = RequestRecord.from_hash(
        {
            "id": "R00042",
            "state": "rejoining",
            "channel": "voice",
            "language": "spa",
            "urgent": "1",
            "created_at": "100.5",
            "queued_at": "101.0",
            "connected_at": "110.0",
            "handler_call": "CA1",
            "vendor_token": "v1",
            "caller_not_told": "1",
            "rejoin_until": "230.0",
            "drops": "2",
            "rejoins": "1",
            "recall": "k1",
            "interpreter_at": "prompt",
            "callback_key": "ab12",
        }
    )
    assert rec.state == State.REJOINING and rec.urgent is True and rec.caller_not_told is True
    assert (rec.created_at, rec.queued_at, rec.rejoin_until) == (100.5, 101.0, 230.0)
    assert (rec.drops, rec.rejoins) == (2, 1)
    assert (rec.handler_call, rec.vendor_token, rec.recall, rec.interpreter_at, rec.callback_key) == (
        "CA1",
        "v1",
        "k1",
        "prompt",
        "ab12",
    )
    assert rec.time_to_interpreter == 9.0 and rec.waiting_since == 101.0


def test_missing_fields_take_their_defaults():
    rec = RequestRecord.from_hash({"id": "R00001"})
    assert rec.state == State.NEW and rec.channel == "voice" and rec.language is None
    assert rec.queued_at is None and rec.created_at == 0.0 and rec.drops == 0 and rec.caller_not_told is False
    assert rec.waiting_since == 0.0 and rec.extra == {}


def test_unknown_and_garbled_fields_are_kept_apart_not_fatal():
    """A newer version's field (a rolling deploy) is kept, unread; a garbled number reads as none."""
    rec = RequestRecord.from_hash(
        {"id": "R00002", "state": "queued", "added_later": "x", "drops": "two", "queued_at": "soon"}
    )
    assert rec.extra == {"added_later": "x"}
    assert rec.drops == 0 and rec.queued_at is None
