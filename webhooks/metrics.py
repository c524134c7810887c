"""GET /metrics: Prometheus text format, computed from Redis at scrape time.

Any number of web and worker processes share one Redis, so per-process counters would
each see a slice; a custom collector reading the shared records is right whichever
process is scraped. Families (label values are catalog ids and states, never numbers):

- ird_requests{state, language}: open requests plus those created today, by current state
- ird_requests_waiting_oldest_seconds: the longest current wait (alert on this)
- ird_time_to_interpreter_seconds{handler}: histogram of today's requests that reached
  an interpreter; it restarts at local midnight, which rate()/increase() treat as a reset
- ird_liaisons{state}: roster liaisons by live state (idle, ringing, on_call, wrapup, off)

With METRICS_TOKEN set, a scrape must carry `Authorization: Bearer <token>` (Prometheus's
`authorization` / `bearer_token` scrape options); unset, /metrics is open.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import Counter
from collections.abc import Iterator

import redis
from flask import Blueprint, Response, request
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from dispatch.context import Context
from dispatch.liaisons import IDLE, OFF, ON_CALL, RINGING, WRAPUP
from dispatch.stats import histogram, todays
from webhooks.dashboard import snapshot
from webhooks.deps import ctx
from webhooks.twilio_auth import log_refusal

bp = Blueprint("metrics", __name__)
log = logging.getLogger("webhooks.metrics")
LIAISON_STATES = (IDLE, RINGING, ON_CALL, WRAPUP, OFF)


class DispatchCollector(Collector):
    """Reads the request records and the liaison board each time it is collected."""

    def __init__(self, c: Context):
        self.c = c

    def collect(self) -> Iterator[Metric]:
        recs = snapshot.load(self.c)
        current = {r.id: r for r in todays(recs.all, recs.since)}
        current.update({r.id: r for r in recs.open})  # still open from yesterday: still counts

        requests = GaugeMetricFamily(
            "ird_requests", "Open requests and today's requests, by current state", labels=["state", "language"]
        )
        by_state = Counter((r.state.value, r.language or "unknown") for r in current.values())
        for (state, language), n in sorted(by_state.items()):
            requests.add_metric([state, language], n)
        yield requests

        waits = [recs.now - (r.queued_at or r.created_at) for r in recs.open if r.waiting]
        yield GaugeMetricFamily(
            "ird_requests_waiting_oldest_seconds",
            "Longest current wait for an interpreter (0 when nobody waits)",
            value=max(waits, default=0.0),
        )

        tti = HistogramMetricFamily(
            "ird_time_to_interpreter_seconds",
            "Seconds from queued to an interpreter joining, today's requests",
            labels=["handler"],
        )
        for handler in ("liaison", "vendor"):
            values = [
                r.time_to_interpreter
                for r in current.values()
                if r.handler_kind == handler and r.time_to_interpreter is not None and r.created_at >= recs.since
            ]
            buckets = [("+Inf" if b == float("inf") else repr(b), n) for b, n in histogram(values)]
            tti.add_metric([handler], buckets, sum_value=sum(values))
        yield tti

        liaisons = GaugeMetricFamily("ird_liaisons", "Roster liaisons by live state", labels=["state"])
        counts = Counter(row.state for row in snapshot.liaisons(self.c, recs.now))
        for state in LIAISON_STATES:
            liaisons.add_metric([state], counts.get(state, 0))
        yield liaisons


def bearer_ok(expected: str, header: str) -> bool:
    """Whether `header` is `Bearer <expected>`, compared in constant time (over digests, so
    not even the token's length shows in the time taken)."""
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(
        hashlib.sha256(given.strip().encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


@bp.get("/metrics")
def metrics() -> Response:
    """Text format 0.0.4 by default; OpenMetrics when the scraper asks for it (as Prometheus does)."""
    token = ctx().settings.metrics_token
    if token and not bearer_ok(token, request.headers.get("Authorization", "")):
        log_refusal("missing or wrong metrics bearer token")
        return Response(
            "401 Unauthorized\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DispatchCollector(ctx()))
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    try:
        body = encoder(registry)
    except redis.RedisError as exc:
        log.warning("metrics: Redis unavailable (%s)", type(exc).__name__)
        return Response("# Redis unavailable\n", status=503, mimetype="text/plain")
    return Response(body, content_type=content_type)
