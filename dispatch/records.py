"""The request record as the rest of the code sees it (a typed view of a Redis hash)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dispatch.states import TERMINAL, WAITING, State


def _f(raw: dict[str, str], key: str) -> float | None:
    value = raw.get(key)
    return float(value) if value not in (None, "") else None


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
    callback_number: str
    created_at: float
    queued_at: float | None
    connected_at: float | None
    ended_at: float | None
    handler_kind: str  # "liaison" | "vendor" | ""
    handler_id: str
    handler_name: str
    offer_id: str
    offer_liaison: str
    offer_call: str
    offer_at: float | None
    vendor_attempt: str  # "main" | "alternate" | ""
    vendor_call: str
    vendor_at: float | None
    outcome: str
    previous: str  # the request this one retries, if any
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
    def time_to_interpreter(self) -> float | None:
        """Seconds from queued to connected: the figure the department cares about."""
        if self.connected_at is None or self.queued_at is None:
            return None
        return max(0.0, self.connected_at - self.queued_at)

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> "RequestRecord":
        known = {
            "id",
            "state",
            "channel",
            "language",
            "language_name",
            "urgent",
            "caller",
            "caller_kind",
            "precinct",
            "unit",
            "officer_call",
            "callback_number",
            "created_at",
            "queued_at",
            "connected_at",
            "ended_at",
            "handler_kind",
            "handler_id",
            "handler_name",
            "offer_id",
            "offer_liaison",
            "offer_call",
            "offer_at",
            "vendor_attempt",
            "vendor_call",
            "vendor_at",
            "outcome",
            "previous",
        }
        g = raw.get
        return cls(
            id=g("id", ""),
            state=State(g("state", "new")),
            channel=g("channel", "voice"),
            language=g("language") or None,
            language_name=g("language_name", ""),
            urgent=g("urgent") == "1",
            caller=g("caller", ""),
            caller_kind=g("caller_kind", ""),
            precinct=g("precinct", ""),
            unit=g("unit", ""),
            officer_call=g("officer_call", ""),
            callback_number=g("callback_number", ""),
            created_at=_f(raw, "created_at") or 0.0,
            queued_at=_f(raw, "queued_at"),
            connected_at=_f(raw, "connected_at"),
            ended_at=_f(raw, "ended_at"),
            handler_kind=g("handler_kind", ""),
            handler_id=g("handler_id", ""),
            handler_name=g("handler_name", ""),
            offer_id=g("offer_id", ""),
            offer_liaison=g("offer_liaison", ""),
            offer_call=g("offer_call", ""),
            offer_at=_f(raw, "offer_at"),
            vendor_attempt=g("vendor_attempt", ""),
            vendor_call=g("vendor_call", ""),
            vendor_at=_f(raw, "vendor_at"),
            outcome=g("outcome", ""),
            previous=g("previous", ""),
            extra={k: v for k, v in raw.items() if k not in known},
        )
