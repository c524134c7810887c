"""Every Redis key the service uses, in one place.

Keeping names here means a reader can see the whole data model at a glance and
a retention or migration change touches one module.
"""
from __future__ import annotations

import hashlib

PREFIX = "ird:"  # interpretation-request dispatch

REQUEST_SEQ = PREFIX + "seq:request"          # INCR → request numbers
OPEN_REQUESTS = PREFIX + "requests:open"      # zset id → created epoch
CLOSED_REQUESTS = PREFIX + "requests:closed"  # zset id → ended epoch
DEADLINES = PREFIX + "requests:deadlines"     # zset id → epoch the sweeper looks again
EVENTS = PREFIX + "events"                    # stream of every transition (dashboard)
AUDIT = PREFIX + "audit"                      # stream, append-only audit log
LIAISONS_AVAILABLE = PREFIX + "liaisons:available"  # zset liaison id → available-from epoch
WORKER_HEARTBEAT = PREFIX + "workers:heartbeat"     # zset worker name → last beat epoch
ROUTE_INBOX = PREFIX + "route:inbox"                # zset request id → when routing was asked for
REJOIN_UNTIL = PREFIX + "rejoin:until"              # string with a TTL: the latest end of any rejoin grace


def request(request_id: str) -> str:
    """Hash: the request record."""
    return f"{PREFIX}request:{request_id}"


def history(request_id: str) -> str:
    """List: the request's transitions as JSON, oldest first."""
    return f"{PREFIX}request:{request_id}:history"


def tried(request_id: str) -> str:
    """Set: liaisons already offered this request (never offered twice)."""
    return f"{PREFIX}request:{request_id}:tried"


def call(call_sid: str) -> str:
    """Hash: what a Twilio CallSid belongs to (request, role, liaison)."""
    return f"{PREFIX}call:{call_sid}"


def liaison(liaison_id: str) -> str:
    """Hash: a liaison's live state (state, request, since, duty/language overrides)."""
    return f"{PREFIX}liaison:{liaison_id}"


def once(kind: str, token: str) -> str:
    """String: marks a delivery (MessageSid, callback) as handled, for idempotency."""
    return f"{PREFIX}once:{kind}:{token}"


def rate(scope: str, who: str, window_start: int) -> str:
    """Counter: requests from one caller in one rate-limit window."""
    return f"{PREFIX}rate:{scope}:{who}:{window_start}"


def periodic(name: str, slot: int) -> str:
    """String: claims one run of a periodic job across all workers."""
    return f"{PREFIX}periodic:{name}:{slot}"


def route_drainer(slot: int) -> str:
    """String with a TTL: the lease of one route-drainer slot (its token)."""
    return f"{PREFIX}route:drainer:{slot}"


def number_key(number: str) -> str:
    """A phone number as it may appear in a key name: a hash, so the key holds no number.

    The one place numbers become key names for matching a caller again (a keyed hash belongs
    here once the service has one: a bare SHA-256 of a phone number can be reversed by trying
    every number; these keys live only for RECONNECT_GRACE)."""
    return hashlib.sha256(number.strip().encode()).hexdigest()[:32]


def rejoin_number(number: str) -> str:
    """String with a TTL of RECONNECT_GRACE: the request whose officer dropped, by their number."""
    return f"{PREFIX}rejoin:number:{number_key(number)}"


def sms_pending(number: str) -> str:
    """Hash: a texted request waiting for the sender's YES (language to confirm)."""
    return f"{PREFIX}sms:pending:{number}"


def signin_failures_for(username: str, ip: str) -> str:
    """Counter: failed dashboard sign-ins for one username from one address (throttling)."""
    return f"{PREFIX}signin:failures:{username}:{ip}"


def signin_failures_ip(ip: str) -> str:
    """Counter: failed dashboard sign-ins from one address for any username (spraying)."""
    return f"{PREFIX}signin:failures-ip:{ip}"


def dashboard_session(session_id: str) -> str:
    """Hash: a signed-in dashboard session (user, CSRF token); its TTL is the idle timeout."""
    return f"{PREFIX}dashboard:session:{session_id}"
