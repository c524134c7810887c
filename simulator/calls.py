"""Call legs as data: status, party, timeline, and the Twilio resource they render to.

A leg is driven by its own thread (see legs.py); everything else that touches it
(REST updates, the other side of a bridge, a conference ending) does so by setting
`pending` and notifying `cond`, which shares the network's single lock.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.parties import PartyRun

API_VERSION = "2010-04-01"
TERMINAL = ("completed", "busy", "no-answer", "failed", "canceled")


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def rfc2822(dt: datetime | None) -> str | None:
    return dt.strftime("%a, %d %b %Y %H:%M:%S +0000") if dt else None


def utcnow() -> datetime:
    return datetime.now(UTC)


class CallEnded(Exception):
    """The leg is over: hung up by a party, the app (REST or <Hangup>), or the network.

    `status` forces the final status (busy, failed, canceled…); otherwise an answered
    leg ends `completed` and an unanswered one `canceled`. `silent` legs (a reset)
    post nothing more to the app.
    """

    def __init__(
        self,
        reason: str,
        status: str | None = None,
        by_party: bool = False,
        silent: bool = False,
        via_api: bool = False,
    ):
        super().__init__(reason)
        self.reason, self.status, self.by_party, self.silent, self.via_api = reason, status, by_party, silent, via_api
        self.dial_params: dict[str, str] = {}  # a <Dial> the leg was in: what its action URL is told


@dataclass
class Source:
    """Where the next TwiML comes from: a URL (with extra parameters) or inline TwiML."""

    url: str | None = None
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)
    twiml: str | None = None
    is_fallback: bool = False


class MusicOver(Exception):
    """Wait music must stop now (the room started or let this participant go)."""


class Redirected(Exception):
    """The app replaced the running TwiML (REST update with Url or Twiml)."""

    def __init__(self, source: Source):
        super().__init__(source.url or "inline TwiML")
        self.source = source


@dataclass
class Call:
    sid: str
    account_sid: str
    direction: str  # inbound | outbound-api | outbound-dial
    from_: str
    to: str
    party: PartyRun
    cond: threading.Condition
    generation: int
    parent: str | None = None
    status: str = "queued"
    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    fallback_url: str | None = None
    fallback_method: str = "POST"
    status_callback: str | None = None
    status_method: str = "POST"
    status_events: set[str] = field(default_factory=set)
    send_digits: str = ""
    timeout: float = 60.0
    created: datetime = field(default_factory=utcnow)
    updated: datetime = field(default_factory=utcnow)
    start_time: datetime | None = None
    end_time: datetime | None = None
    answered_mono: float | None = None
    ended_mono: float | None = None
    hangup_at: float | None = None  # monotonic instant the party hangs up
    pending: Exception | None = None  # CallEnded / Redirected set by another thread
    callback_seq: int = 0
    conference: str | None = None
    bridged: bool = False  # a <Dial> child leg, connected to its parent
    children: list[str] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    end_reason: str = ""
    # Epoch seconds of the leg's milestones (created, answered, digits_sent, ended): a benchmark
    # lines them up with the app's records, which are stamped on the same clock.
    marks: dict[str, float] = field(default_factory=lambda: {"created": time.time()})

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL

    @property
    def answered(self) -> bool:
        return self.answered_mono is not None

    @property
    def number(self) -> str:
        """The simulated person's phone: the caller on inbound legs, the callee otherwise."""
        return self.from_ if self.direction == "inbound" else self.to

    def duration(self) -> int:
        if self.answered_mono is None:
            return 0
        end = self.ended_mono if self.ended_mono is not None else time.monotonic()
        return int(round(end - self.answered_mono))

    def webhook_params(self) -> dict[str, str]:
        """Twilio's standard voice request parameters for this leg."""
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": self.sid,
            "CallStatus": self.status,
            "Direction": self.direction,
            "From": self.from_,
            "To": self.to,
            "Called": self.to,
            "Caller": self.from_,
        }
        if self.parent:
            params["ParentCallSid"] = self.parent
        return params

    def resource(self) -> dict[str, Any]:
        """The REST representation, shaped like Twilio's so the SDK parses it."""
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "parent_call_sid": self.parent,
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from_,
            "from_formatted": self.from_,
            "phone_number_sid": None,
            "status": self.status,
            "direction": self.direction,
            "start_time": rfc2822(self.start_time),
            "end_time": rfc2822(self.end_time),
            "duration": str(self.duration()) if self.ended else None,
            "price": None,
            "price_unit": "USD",
            "answered_by": None,
            "api_version": API_VERSION,
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "annotation": None,
            "date_created": rfc2822(self.created),
            "date_updated": rfc2822(self.updated),
            "uri": base + ".json",
            "subresource_uris": {
                name: f"{base}/{name.title().replace('_', '')}.json"
                for name in (
                    "notifications",
                    "recordings",
                    "payments",
                    "events",
                    "siprec",
                    "streams",
                    "transcriptions",
                    "user_defined_message_subscriptions",
                    "user_defined_messages",
                )
            },
        }

    def snapshot(self) -> dict[str, Any]:
        """What the control API shows: the resource's essentials plus what the party experienced."""
        return {
            "sid": self.sid,
            "number": self.number,
            "from": self.from_,
            "to": self.to,
            "direction": self.direction,
            "status": self.status,
            "parent": self.parent,
            "children": list(self.children),
            "conference": self.conference,
            "received_digits": self.party.received_digits,
            "expected_digits": self.party.expect_send_digits,
            "digits_matched": self.party.digits_matched,
            "duration": self.duration(),
            "answered": self.answered,
            "end_reason": self.end_reason,
            "staffed_after": self.party.staffed_after,
            "marks": dict(self.marks),
            "date_created": rfc2822(self.created),
            "timeline": [dict(t) for t in self.timeline],
        }
