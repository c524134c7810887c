"""Every Redis key the service uses, in one place.

Keeping names here means a reader can see the whole data model at a glance and
a retention or migration change touches one module.
"""

from __future__ import annotations

PREFIX = "ird:"  # interpretation-request dispatch

REQUEST_SEQ = PREFIX + "seq:request"  # INCR → request numbers
OPEN_REQUESTS = PREFIX + "requests:open"  # zset id → created epoch
CLOSED_REQUESTS = PREFIX + "requests:closed"  # zset id → ended epoch
DEADLINES = PREFIX + "requests:deadlines"  # zset id → epoch the sweeper looks again
WAITING_LINE = PREFIX + "requests:waiting:"  # + language id ("" unknown): zset id → when its wait began
EVENTS = PREFIX + "events"  # stream of every transition (dashboard)
AUDIT = PREFIX + "audit"  # stream, append-only audit log of actions
AUDIT_REFUSALS = PREFIX + "audit:refusals"  # stream: a refusal's first time per source and hour
API_TOKENS = PREFIX + "api-tokens"  # hash: API token name -> SHA-256 of the token
LIAISONS_AVAILABLE = PREFIX + "liaisons:available"  # zset liaison id → available-from epoch
WORKER_HEARTBEAT = PREFIX + "workers:heartbeat"  # zset worker name → last beat epoch
ROUTE_INBOX = PREFIX + "route:inbox"  # zset request id → when routing was asked for
REJOIN_UNTIL = PREFIX + "rejoin:until"  # string with a TTL: the latest end of any rejoin grace
COUNTERS = PREFIX + "counters"  # hash: counter (and label value) -> count (dispatch.counters)
WRITE_PROBE = PREFIX + "metrics:write-probe"  # string with a TTL: /metrics checks Redis still takes writes


def request(request_id: str) -> str:
    """Hash: the request record."""
    return f"{PREFIX}request:{request_id}"


def waiting_line(language: str) -> str:
    """Sorted set: the requests for `language` waiting for an interpreter, by when their wait
    began (the request scripts keep it; "" is the line of unknown languages)."""
    return WAITING_LINE + language


def history(request_id: str) -> str:
    """List: the request's transitions as JSON, oldest first."""
    return f"{PREFIX}request:{request_id}:history"


def tried(request_id: str) -> str:
    """Set: liaisons already offered this request (never offered twice)."""
    return f"{PREFIX}request:{request_id}:tried"


def offer_round(request_id: str, round_id: str) -> str:
    """Hash: the liaisons one offer round of a request rings at once → their CallSid ("" until known);
    with ":up", the set of those who answered (dispatch/offer_rounds.py)."""
    return f"{PREFIX}request:{request_id}:round:{round_id}"


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
    """Counter: requests from one caller (a keyed hash of the number, never the number) in one
    rate-limit window."""
    return f"{PREFIX}rate:{scope}:{who}:{window_start}"


def periodic(name: str, slot: int) -> str:
    """String: claims one run of a periodic job across all workers."""
    return f"{PREFIX}periodic:{name}:{slot}"


def lease(name: str) -> str:
    """String with a TTL: the holder of lease `name` (dispatch.leases), e.g. a reconciler pass."""
    return f"{PREFIX}lease:{name}"


def route_drainer(slot: int) -> str:
    """String with a TTL: the lease of one route-drainer slot (its token)."""
    return f"{PREFIX}route:drainer:{slot}"


def rejoin_number(pseudonym: str) -> str:
    """String with a TTL of RECONNECT_GRACE: the request whose officer dropped, by the keyed hash
    of their number (dispatch.pseudonyms), so the key holds no number."""
    return f"{PREFIX}rejoin:number:{pseudonym}"


def sms_pending(number: str) -> str:
    """Hash: a texted request waiting for the sender's YES (language to confirm)."""
    return f"{PREFIX}sms:pending:{number}"


def signin_failures(address: str, username: str) -> str:
    """Counter with a TTL: failed dashboard sign-ins for one username from one client address."""
    return f"{PREFIX}signin:failures:{address}:{username}"


def signin_failures_address(address: str) -> str:
    """Counter with a TTL: failed dashboard sign-ins from one client address, any username."""
    return f"{PREFIX}signin:failures-address:{address}"


def signin_lock(address: str, username: str) -> str:
    """String with a TTL: one username locked out at one client address until it expires."""
    return f"{PREFIX}signin:lock:{address}:{username}"


def signin_lock_address(address: str) -> str:
    """String with a TTL: one client address locked out (every username) until it expires."""
    return f"{PREFIX}signin:lock-address:{address}"


def dashboard_session(session_id: str) -> str:
    """Hash: a signed-in dashboard session (user, CSRF token); its TTL is the idle timeout."""
    return f"{PREFIX}dashboard:session:{session_id}"


def pin_failures(precinct_id: str) -> str:
    """Sorted set: wrong unit PINs keyed for one precinct (by anyone) in the last hour, member
    a random token, score the epoch (dispatch.pin_guard). No number, no digits."""
    return f"{PREFIX}pin:failures:{precinct_id}"


def pin_lock(precinct_id: str) -> str:
    """String with a TTL: the epoch until which PIN entry for one precinct is refused."""
    return f"{PREFIX}pin:lock:{precinct_id}"


def audit_refusal_counts(hour: int) -> str:
    """Hash with a TTL: refusal source -> how many times in that hour (epoch seconds // 3600)."""
    return f"{PREFIX}audit:refusals:{hour}"


def api_token(digest: str) -> str:
    """Hash: one API token by the SHA-256 of its secret (name, created); gone when revoked."""
    return f"{PREFIX}api-token:{digest}"


# Liaisons' time (issue 18): missed offers and pauses, bookings, calendar feeds, call-outs.
LIAISON_MISSES = PREFIX + "liaisons:missed"  # hash liaison id → consecutive unanswered offers
LIAISON_PAUSED = PREFIX + "liaisons:paused"  # hash liaison id → misses when paused (not offered calls)
BOOKING_SEQ = PREFIX + "seq:booking"  # INCR → booking numbers
BOOKINGS = PREFIX + "bookings"  # hash booking no. → the booking as JSON
BOOKINGS_BY_END = PREFIX + "bookings:by-end"  # zset booking no. → end epoch (what is still to come)
BOOKINGS_BY_START = PREFIX + "bookings:by-start"  # zset booking no. → start epoch (what may hold someone now)
CALENDAR_FEEDS = PREFIX + "calendar:feeds"  # hash feed name ("unit" or a liaison id) → SHA-256 of its token


def booking_reminded(number: str) -> str:
    """Set: the reminders sent for one booking ("day:<liaison>", "hour:<liaison>"), each once."""
    return f"{PREFIX}booking:{number}:reminded"


def calendar_feed(digest: str) -> str:
    """String: the feed name a calendar token (by its SHA-256) opens; gone when revoked."""
    return f"{PREFIX}calendar:feed:{digest}"


def callout_sent(liaison_id: str) -> str:
    """String with a TTL until midnight: the language a liaison was called out for today, so their
    ON reply puts them on duty until midnight."""
    return f"{PREFIX}callout:sent:{liaison_id}"


def coverage_day(day: str) -> str:
    """Hash kept COVERAGE_RETENTION_DAYS: one local day's anonymous coverage cells,
    "precinct|language|hour|outcome" -> count, interpreter seconds, time-to-interpreter buckets
    (dispatch.coverage_figures). No number, no request id, no text."""
    return f"{PREFIX}coverage:day:{day}"


def coverage_month(month: str) -> str:
    """String (JSON): a finished month's coverage sums per precinct and language, a cache of its
    days (dropped when one of them changes)."""
    return f"{PREFIX}coverage:month:{month}"


def coverage_month_version(month: str) -> str:
    """Counter: bumped by every count in that month, so a cache summed meanwhile is not kept."""
    return f"{PREFIX}coverage:month-version:{month}"


def coverage_period(start: str, end: str, version: str) -> str:
    """String (JSON) with a TTL: a standard period's sums of past days, valid while the past
    version (COVERAGE_PAST_VERSION) is `version`."""
    return f"{PREFIX}coverage:period:{start}:{end}:{version}"


COVERAGE_PAST_VERSION = PREFIX + "coverage:past-version"  # counter: bumped by a count on a day before yesterday


def coverage_counted(request_id: str) -> str:
    """String with the record's TTL: this request's end is counted (counted once, on replay too)."""
    return f"{PREFIX}coverage:counted:{request_id}"


CENSUS = PREFIX + "census:acs"  # hash: geography -> JSON {ACS language group: [speakers, less than very well]}
CENSUS_META = PREFIX + "census:acs:meta"  # hash: the imported file's name, when, and its unmapped groups
