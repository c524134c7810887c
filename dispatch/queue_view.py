"""The live queue and the liaison board as the sergeant sees them (a view model).

Pure: it takes records, liaison statuses and lookups and returns plain rows, so the
HTML page, the JSON API and the tests all read the same thing. Phone numbers leave
this module masked (dispatch.phone.mask) and nowhere else is a row built, which keeps
full numbers off every screen by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch.liaisons import IDLE, OFF, ON_CALL, RINGING, WRAPUP, LiaisonStatus
from dispatch.phone import mask
from dispatch.records import RequestRecord
from dispatch.roster import Liaison
from dispatch.states import ON_THE_LINE, State

STATE_LABELS: dict[State, str] = {
    State.NEW: "Calling back",
    State.QUEUED: "Waiting",
    State.OFFERING: "Ringing liaison",
    State.VENDOR_DIALING: "Dialling vendor",
    State.CONNECTED: "Connected",
    State.REJOINING: "Officer dropped, rejoining",
    State.COMPLETED: "Completed",
    State.CANCELLED: "Cancelled",
    State.ABANDONED: "Caller hung up",
    State.FAILED: "Failed",
}

LIAISON_LABELS: dict[str, str] = {
    IDLE: "Idle",
    RINGING: "Ringing",
    ON_CALL: "On a call",
    WRAPUP: "Wrap-up",
    OFF: "Off duty",
}


@dataclass(frozen=True)
class QueueRow:
    """One request on the board. `since` is the epoch its wait started (the client ticks from it)."""

    id: str
    state: str
    state_label: str
    channel: str
    urgent: bool
    language: str
    precinct: str
    unit: str
    caller: str  # masked
    caller_kind: str  # "precinct" | "supervisor" | "pin" (an unregistered phone, by unit PIN)
    handler: str  # liaison name, vendor name, or "" while nobody is on it
    handler_kind: str  # "liaison" | "vendor" | ""
    since: float
    wait_seconds: float  # waiting: so far; connected/finished: time to interpreter (or to the end)
    alert: bool  # still waiting beyond the alert threshold
    connected_alert: bool  # an interpreter on the line longer than the connected bound
    time_to_interpreter: float | None
    connected_at: float | None
    ended_at: float | None
    outcome: str
    drops: int  # times the officer's leg ended with the interpreter on the line
    rejoins: int  # times the officer came back to the same interpreter
    can_send_to_vendor: bool
    can_cancel: bool
    can_offer_again: bool
    preference: str = ""  # the interpreter asked for: "female" | "male" | ""
    callout_language: str = ""  # a call-out may text off-duty speakers of this language (dispatch.liaison_notes)

    def as_dict(self) -> dict[str, Any]:
        # Every field is a str, number, bool or None: a shallow copy is what asdict gives,
        # without its recursive deep copy, which costs more than the rest of a snapshot's shaping.
        return dict(vars(self))


@dataclass(frozen=True)
class QueueView:
    now: float
    alert_after: float
    connected_alert_after: float | None
    active: tuple[QueueRow, ...]  # waiting first (urgent, then longest wait), then connected (and rejoining)
    finished: tuple[QueueRow, ...]  # newest first

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now,
            "alert_after": self.alert_after,
            "connected_alert_after": self.connected_alert_after,
            "active": [r.as_dict() for r in self.active],
            "finished": [r.as_dict() for r in self.finished],
        }


@dataclass(frozen=True)
class LiaisonRow:
    id: str
    name: str
    phone: str  # masked
    languages: tuple[str, ...]  # display names, today's (an ON text may have changed them)
    state: str  # idle | ringing | on_call | wrapup | off
    state_label: str
    on_duty: bool
    duty_override: str  # "on" | "off" | "" (following the roster schedule)
    request: str  # the request ringing them or on the line, if any
    since: float | None
    note: str = ""  # paused, or booked: "At Corona community base until 8:30 PM" (dispatch.liaison_notes)
    callout: bool = False  # off duty or paused, not booked, not on a call: a call-out would text them

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))  # flat; `languages` is an immutable tuple (JSON renders it as a list)


_ON_THE_LINE = frozenset(s.value for s in ON_THE_LINE)


def _outcome(rec: RequestRecord) -> str:
    """A short, human outcome for a finished request."""
    if rec.state == State.COMPLETED:
        how = ", ".join(
            x for x in (rec.handler_kind, "reconciled" if rec.outcome.endswith("(reconciled)") else "") if x
        )
        done = f"Completed ({how})" if how else "Completed"
        # The reconciler's outcome is said by "reconciled"; any other reason is worth a word.
        return f"{done}: {rec.outcome}" if rec.outcome and not rec.outcome.endswith("(reconciled)") else done
    if rec.state == State.FAILED:
        return f"Failed: {rec.outcome}" if rec.outcome else "Failed"
    return rec.outcome or STATE_LABELS[rec.state]


def queue_row(
    rec: RequestRecord,
    now: float,
    alert_after: float,
    precinct_name: Callable[[str], str],
    liaison_name: Callable[[str], str],
    vendor_name: str,
    connected_alert_after: float | None = None,
) -> QueueRow:
    """One record as a row: masked caller, wait so far, who is on it, what may be done to it.

    `connected_alert_after` (seconds; None: never): a call connected longer than this is
    marked, so one nobody hung up (or a ghost the reconciler has not closed yet) stands out.
    """
    since = rec.queued_at or rec.created_at
    tti = rec.time_to_interpreter
    if rec.waiting:
        wait = max(0.0, now - since)
    elif tti is not None:
        wait = tti
    else:
        wait = max(0.0, (rec.ended_at or now) - since)
    if rec.state == State.OFFERING:
        handler, kind = liaison_name(rec.offer_liaison), "liaison"
    elif rec.state == State.VENDOR_DIALING:
        handler, kind = vendor_name, "vendor"
    else:
        handler, kind = rec.handler_name, rec.handler_kind
    drops, rejoins = rec.drops, rec.rejoins
    label = STATE_LABELS[rec.state]
    if rec.state == State.CONNECTED and rejoins:
        label = "Connected, officer rejoined" + (f" ×{rejoins}" if rejoins > 1 else "")
    return QueueRow(
        id=rec.id,
        state=rec.state.value,
        state_label=label,
        channel=rec.channel,
        urgent=rec.urgent,
        language=rec.language_name or "Unknown language",
        precinct=precinct_name(rec.precinct) if rec.precinct else "",
        unit=rec.unit,
        caller=mask(rec.caller or rec.callback_number),
        caller_kind=rec.caller_kind,
        handler=handler,
        handler_kind=kind,
        since=since,
        wait_seconds=round(wait, 1),
        alert=rec.waiting and wait > alert_after,
        connected_alert=(
            connected_alert_after is not None
            and rec.state.value in _ON_THE_LINE
            and rec.connected_at is not None
            and now - rec.connected_at > connected_alert_after
        ),
        time_to_interpreter=None if tti is None else round(tti, 1),
        connected_at=rec.connected_at,
        ended_at=rec.ended_at,
        outcome=_outcome(rec) if rec.finished else "",
        drops=drops,
        rejoins=rejoins,
        can_send_to_vendor=rec.state in (State.QUEUED, State.OFFERING),
        can_cancel=rec.waiting,
        can_offer_again=rec.state == State.QUEUED,
        preference=rec.gender,
    )


def build_queue(
    open_records: Iterable[RequestRecord],
    finished_records: Iterable[RequestRecord],
    now: float,
    alert_after: float,
    precinct_name: Callable[[str], str],
    liaison_name: Callable[[str], str],
    vendor_name: str,
    finished_limit: int = 25,
    connected_alert_after: float | None = None,
) -> QueueView:
    """The board: live requests in the order a sergeant should look at them, then the recent finished."""

    def row(rec: RequestRecord) -> QueueRow:
        return queue_row(rec, now, alert_after, precinct_name, liaison_name, vendor_name, connected_alert_after)

    live = [row(r) for r in open_records if not r.finished]
    waiting = sorted((r for r in live if r.state not in _ON_THE_LINE), key=lambda r: (not r.urgent, r.since, r.id))
    connected = sorted((r for r in live if r.state in _ON_THE_LINE), key=lambda r: (r.connected_at or 0.0, r.id))
    done = sorted(
        (row(r) for r in finished_records if r.finished), key=lambda r: (r.ended_at or 0.0, r.id), reverse=True
    )[:finished_limit]
    return QueueView(
        now=now,
        alert_after=alert_after,
        connected_alert_after=connected_alert_after,
        active=tuple(waiting + connected),
        finished=tuple(done),
    )


def on_duty(liaison: Liaison, status: LiaisonStatus, at: datetime) -> bool:
    """A duty override set today wins over the roster schedule."""
    override = {"on": True, "off": False}.get(status.duty_override)
    return liaison.on_duty_at(at) if override is None else override


def build_liaisons(
    liaisons: Sequence[Liaison], statuses: Sequence[LiaisonStatus], at: datetime, language_name: Callable[[str], str]
) -> list[LiaisonRow]:
    """Every roster liaison with today's languages and live state; on duty first, then by name.

    A liaison off duty but still on a call shows the call (the call matters more);
    an idle or wrapping-up liaison off duty shows "off".
    """
    by_id = {s.id: s for s in statuses}
    rows = []
    for liaison in liaisons:
        status = by_id.get(liaison.id) or LiaisonStatus(liaison.id, IDLE, "", None, None, "", None)
        duty = on_duty(liaison, status, at)
        state = status.state if duty or status.state in (RINGING, ON_CALL) else OFF
        codes = status.languages_override if status.languages_override is not None else liaison.languages
        rows.append(
            LiaisonRow(
                id=liaison.id,
                name=liaison.name,
                phone=mask(liaison.phone),
                languages=tuple(language_name(c) for c in codes),
                state=state,
                state_label=LIAISON_LABELS.get(state, state),
                on_duty=duty,
                duty_override=status.duty_override,
                request=status.request if state in (RINGING, ON_CALL) else "",
                since=status.since,
            )
        )
    return sorted(rows, key=lambda r: (not r.on_duty, r.name))
