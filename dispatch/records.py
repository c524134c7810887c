"""The request record as the rest of the code sees it (a typed view of a Redis hash).

Every field the code reads is a typed attribute here, read from the hash field of the same
name. Reading is tolerant: a missing field takes its default, and a field this version does
not know (written by a newer one during a rolling deploy) is kept in `extra`, unread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from dispatch.states import TERMINAL, WAITING, State


def _optional_float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _count(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


# The current offer's fields, cleared (None deletes a field) when the offer ends in any way.
OFFER_CLEARED: dict[str, None] = {"offer_id": None, "offer_liaison": None, "offer_call": None, "offer_at": None}

# How each annotation is read from the hash's text.
_READERS: dict[str, Callable[[str | None], Any]] = {
    "str": lambda v: v or "",
    "str | None": lambda v: v or None,
    "bool": lambda v: v == "1",
    "int": _count,
    "float": lambda v: _optional_float(v) or 0.0,
    "float | None": _optional_float,
    "State": lambda v: State(v or State.NEW.value),
}


@dataclass(frozen=True)
class RequestRecord:
    """One interpretation request. Holds no free text and nothing about immigration status."""

    id: str
    state: State
    channel: str  # "voice" | "sms"
    language: str | None  # catalog id; None when the caller did not know it
    language_name: str
    urgent: bool
    caller: str  # E.164 of a roster phone; masked for any other (a PIN caller)
    caller_kind: str  # "precinct" | "supervisor" | "pin"
    precinct: str
    unit: str
    officer_call: str  # the CallSid waiting in the conference
    callback_number: str  # a texted request's number to call (masked once dialled, if not the roster's)
    callback_key: str  # ... then its keyed hash (dispatch.pseudonyms), to spot a repeated request
    callback_call: str  # the call ringing a texted request's supervisor back
    created_at: float
    queued_at: float | None
    dialled_at: float | None  # the first interpreter phone dialled for it (a liaison's or the vendor's)
    call_started_at: float | None  # the officer's call answered (from the network's report of its end)
    connected_at: float | None
    ended_at: float | None
    handler_kind: str  # "liaison" | "vendor" | ""
    handler_id: str
    handler_name: str
    handler_call: str  # the interpreter's CallSid once connected
    offer_id: str  # the current liaison offer's token ...
    offer_liaison: str
    offer_call: str
    offer_at: float | None
    vendor_token: str  # ... and the current vendor dial's: a callback naming an old one changes nothing
    vendor_attempt: str  # "main" | "alternate" | ""
    vendor_call: str
    vendor_at: float | None
    outcome: str
    previous: str  # the request this one retries, if any
    caller_not_told: bool  # every redirect of the officer's call was refused (the hold loop says so)
    # A dropped officer (dispatch/rejoin.py): the drop's token, its grace and the call-back in flight.
    rejoin_token: str
    rejoin_until: float | None
    dropped_call: str
    dropped_at: float | None
    drops: int
    rejoins: int
    recall: str  # the call-back's token ("" when none is in flight)
    recall_call: str
    recall_at: float | None
    interpreter_at: str  # "room" | "prompt": where the interpreter's TwiML last put them
    # For the officer's report (dispatch/report_facts.py); they expire with the record.
    incident: str  # the incident or complaint number the officer keyed or texted
    gender: str  # the interpreter asked for: "female" | "male" | "" (no preference)
    gender_unsent: bool  # the vendor could not be told the preference (its bridge has no such option)
    interpreter_ref: str  # the interpreter's own ID number (a vendor's states it when joining)
    extra: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def conference(self) -> str:
        """Twilio conference FriendlyName: one room per request."""
        return f"req-{self.id}"

    @property
    def waiting(self) -> bool:
        return self.state in WAITING

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL

    @property
    def waiting_since(self) -> float:
        """When the wait for an interpreter started: queued, or created (a texted request)."""
        return self.queued_at or self.created_at

    @property
    def time_to_interpreter(self) -> float | None:
        """Seconds from queued to connected: the figure the department cares about."""
        if self.connected_at is None or self.queued_at is None:
            return None
        return max(0.0, self.connected_at - self.queued_at)

    @classmethod
    def from_hash(cls, raw: Mapping[str, str]) -> RequestRecord:
        values: dict[str, Any] = {name: read(raw.get(name)) for name, read in _FIELDS.items()}
        values["channel"] = values["channel"] or "voice"
        return cls(**values, extra={k: v for k, v in raw.items() if k not in _FIELDS})


_FIELDS: dict[str, Callable[[str | None], Any]] = {
    f.name: _READERS[str(f.type)] for f in fields(RequestRecord) if f.name != "extra"
}
