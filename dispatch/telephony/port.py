"""The small surface the domain needs from a phone network.

Routing code calls these operations and nothing else, so the phone network can be
Twilio, any Twilio-compatible endpoint (the simulator in local runs and tests, a
contract mock in staging), or an in-memory fake. Four act (place, hang up, redirect,
text); two only ask (a call's status, a conference's participants), for the
reconciler that checks what the callbacks said against the network's own view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class TelephonyError(Exception):
    """The network refused or could not be reached after every retry.

    `maybe_placed` is True when the request may have been accepted before the
    failure (a read timeout on create): the caller must not simply dial again.
    """

    def __init__(self, message: str, status: int | None = None, maybe_placed: bool = False):
        super().__init__(message)
        self.status = status
        self.maybe_placed = maybe_placed


@dataclass(frozen=True)
class CallRequest:
    """An outbound call: who, what TwiML to run when answered, where to report."""

    to: str
    from_: str
    url: str
    status_callback: str
    timeout: int
    send_digits: str | None = None
    status_events: tuple[str, ...] = field(default=("initiated", "ringing", "answered", "completed"))


@dataclass(frozen=True)
class CallInfo:
    sid: str
    status: str  # Twilio's call status: queued, ringing, in-progress, completed, busy, failed, no-answer, canceled
    from_: str
    to: str


class Telephony(Protocol):
    def place_call(self, call: CallRequest) -> str:
        """Start the call and return its CallSid."""

    def hangup(self, call_sid: str) -> bool:
        """End (or cancel, if still ringing) a call; False if it had already ended."""

    def redirect(self, call_sid: str, url: str) -> bool:
        """Make a live call fetch new TwiML; False if it had already ended."""

    def send_sms(self, to: str, from_: str, body: str) -> str:
        """Send a text and return its MessageSid."""

    def fetch_call(self, call_sid: str) -> CallInfo | None:
        """The call as the network knows it now; None if it does not know the sid."""

    def conference_participants(self, friendly_name: str) -> list[str] | None:
        """The call sids in the in-progress conference of that name; None when there is
        no such conference (never started, or over)."""
