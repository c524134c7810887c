"""Counters of things that went wrong, shared by every process through one Redis hash.

The service runs several gunicorn processes and several workers; a counter kept in one
process's memory would show only that process's slice, and whichever process Prometheus
scrapes would answer differently (prometheus_client's multiprocess mode covers the
processes of one host only, through files, and not the workers on other hosts). So each
count is an HINCRBY on `ird:counters`, and /metrics reads the hash (webhooks/metrics.py).
Services count through `ctx.counters`, wired in bootstrap.py like every other store.
A count only goes up; a Redis failover that loses the last increments makes it go down,
which Prometheus's rate() and increase() take for a counter reset.

Counting is best effort: an increment that fails (Redis down) is dropped rather than let
the failure being counted fail a second time.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import redis

from dispatch import keys
from dispatch.redis_replies import text_fields

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counter:
    """One counter family: its Prometheus name, help, label and the label values it always reports."""

    name: str
    help: str
    label: str = ""
    values: tuple[str, ...] = ()  # reported as 0 until counted, so increase() sees the first one


WEBHOOK_ERRORS = Counter(
    "ird_webhook_errors_total",
    "Verified Twilio webhooks whose handler failed (answered with the direct vendor dial "
    "or empty TwiML instead); Redis being unreachable is ird_redis_up",
)
VENDOR_DIAL_FAILURES = Counter(
    "ird_vendor_dial_failures_total",
    "Vendor calls that did not reach the vendor, by outcome (the alternate number "
    "is tried next, then the request fails)",
    "outcome",
    ("dial-failed", "busy", "no-answer", "failed", "canceled", "hung-up-before-joining"),
)
RECONCILER_FINDINGS = Counter(
    "ird_reconciler_findings_total",
    "Calls the reconciler found over while the service still had them live (their "
    "final callbacks lost), by what it did",
    "finding",
    ("ended", "abandoned", "officer_dropped"),
)
SIGNIN_LOCKOUTS = Counter(
    "ird_signin_lockouts_total", "Dashboard sign-in lock-outs started (a username at an address, or an address)"
)
ALL = (WEBHOOK_ERRORS, VENDOR_DIAL_FAILURES, RECONCILER_FINDINGS, SIGNIN_LOCKOUTS)


def _field(counter: Counter, value: str) -> str:
    return json.dumps([counter.name, value]) if counter.label else counter.name


class Counters:
    """The shared counts (a store: bootstrap.py wires one into the Context), and the write
    /metrics makes to learn whether Redis still takes writes at all."""

    def __init__(self, r: redis.Redis) -> None:
        self.r = r

    def add(self, counter: Counter, value: str = "", n: int = 1) -> None:
        """Count `n` more of `counter` (for `value` of its label, if it has one)."""
        try:
            self.r.hincrby(keys.COUNTERS, _field(counter, value), n)
        except redis.RedisError as exc:
            log.info("not counted (%s): %s", type(exc).__name__, counter.name)

    def read(self) -> dict[Counter, dict[str, int]]:
        """Every counter's values by label value ("" for a counter without a label); raises RedisError."""
        raw = text_fields(self.r.hgetall(keys.COUNTERS))
        out = {c: dict.fromkeys(c.values, 0) if c.label else {"": 0} for c in ALL}
        by_name = {c.name: c for c in ALL}
        for field, count in raw.items():
            if field.startswith("["):
                name, value = json.loads(field)
            else:
                name, value = field, ""
            counter = by_name.get(name)
            if counter is not None:
                out[counter][str(value)] = int(count)
        return out

    def probe_write(self) -> None:
        """Write a short-lived key; raises what Redis answers (NOREPLICAS, READONLY, ...) when
        it refuses writes."""
        self.r.set(keys.WRITE_PROBE, "1", ex=60)
