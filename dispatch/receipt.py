"""The receipt of one request: what an officer writes into the report of an interpreted
interview (who interpreted, when, for which incident), as the dashboard prints it, the JSON API
serves it and a texting supervisor receives it. No phone number, nothing about immigration status.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from dispatch import clock
from dispatch.records import RequestRecord
from dispatch.roster import Roster


def _utc(epoch: float | None) -> str:
    return clock.iso(epoch)[:19] + "Z" if epoch else ""


def duration_text(seconds: float | None) -> str:
    """83.4 → "1:23" (minutes:seconds); "" when unknown."""
    if seconds is None:
        return ""
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


@dataclass(frozen=True)
class Receipt:
    request: str
    state: str
    channel: str  # voice | sms
    precinct: str  # the precinct's name
    unit: str  # the supervisor's name (their cell), "precinct line" or "unit PIN"
    language: str
    urgent: bool
    preference: str  # "female" | "male" | ""
    preference_passed: bool  # False: the vendor's bridge could not be asked for it
    incident: str
    interpreter_kind: str  # "liaison" | "vendor" | "" (none reached)
    interpreter: str  # the liaison's or the vendor's name
    liaison_id: str  # the liaison's roster id
    interpreter_id: str  # the interpreter's own ID number (keyed, texted or added by a sergeant)
    queued_at: str  # UTC, ISO 8601, seconds
    connected_at: str
    ended_at: str
    time_to_interpreter: float | None  # seconds, queued → connected
    duration: float | None  # seconds, connected → ended
    outcome: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def time_to_interpreter_text(self) -> str:
        return duration_text(self.time_to_interpreter)

    @property
    def duration_text(self) -> str:
        return duration_text(self.duration)


def _unit(rec: RequestRecord, roster: Roster) -> str:
    if rec.caller_kind == "supervisor":
        found = next((s for s in roster.supervisors if s.id == rec.unit), None)
        return found.name if found else rec.unit
    return {"precinct": "precinct line", "pin": "unit PIN"}.get(rec.caller_kind, rec.caller_kind)


def receipt_of(rec: RequestRecord, roster: Roster) -> Receipt:
    precinct = roster.precinct(rec.precinct) if rec.precinct else None
    connected = rec.connected_at
    duration = max(0.0, rec.ended_at - connected) if connected and rec.ended_at else None
    return Receipt(
        request=rec.id,
        state=rec.state.value,
        channel=rec.channel,
        precinct=precinct.name if precinct else rec.precinct,
        unit=_unit(rec, roster),
        language=rec.language_name,
        urgent=rec.urgent,
        preference=rec.gender,
        preference_passed=bool(rec.gender) and not (rec.gender_unsent and rec.handler_kind != "liaison"),
        incident=rec.incident,
        interpreter_kind=rec.handler_kind,
        interpreter=rec.handler_name,
        liaison_id=rec.handler_id if rec.handler_kind == "liaison" else "",
        interpreter_id=rec.interpreter_ref,
        queued_at=_utc(rec.queued_at),
        connected_at=_utc(connected),
        ended_at=_utc(rec.ended_at),
        time_to_interpreter=rec.time_to_interpreter,
        duration=duration,
        outcome=rec.outcome,
    )
