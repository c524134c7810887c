"""GET /metrics: Prometheus text format, computed from Redis at scrape time.

Any number of web and worker processes share one Redis, so per-process counters would
each see a slice; a custom collector reading the shared records is right whichever
process is scraped (and the counters of failures are Redis hashes, dispatch.counters).
Names follow Prometheus's conventions: base units in the name (seconds), `_total` for
counters. Families (label values are catalog ids, states and outcomes, never numbers):

- ird_redis_up: 1, or 0 when this process cannot reach Redis (the only family then)
- ird_redis_writable: 0 while Redis answers but refuses writes (NOREPLICAS, READONLY)
- ird_workers_alive: RQ worker processes whose heartbeat is fresh (30 s)
- ird_requests{state, language}: open requests plus those created today, by current state
- ird_requests_waiting_oldest_seconds: the longest current wait (alert on this) ...
- ird_liaison_window_seconds: ... against LIAISON_WINDOW, after which a wait goes to the vendor
- ird_time_to_interpreter_seconds{handler}: histogram of today's requests that reached
  an interpreter; it restarts at local midnight, which rate()/increase() treat as a reset
- ird_liaisons{state}: roster liaisons by live state (idle, ringing, on_call, wrapup, off)
- ird_webhook_errors_total, ird_vendor_dial_failures_total{outcome},
  ird_reconciler_findings_total{finding}, ird_signin_lockouts_total: counters, dispatch.counters

Alerting rules over these: deploy/prometheus/alerts.yml; a dashboard: deploy/grafana/dispatch.json.
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
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from adapters.redis_connection import unavailable
from dispatch.context import Context
from dispatch.heartbeats import Heartbeats
from dispatch.liaisons import IDLE, OFF, ON_CALL, RINGING, WRAPUP
from dispatch.stats import histogram, todays
from webhooks.dashboard import snapshot
from webhooks.deps import ctx, settings, wiring
from webhooks.health import WORKER_STALE_AFTER
from webhooks.twilio_auth import log_refusal

bp = Blueprint("metrics", __name__)
log = logging.getLogger("webhooks.metrics")
LIAISON_STATES = (IDLE, RINGING, ON_CALL, WRAPUP, OFF)


class DispatchCollector(Collector):
    """Reads the request records and the liaison board each time it is collected."""

    def __init__(self, c: Context, heartbeats: Heartbeats):
        self.c = c
        self.heartbeats = heartbeats

    def collect(self) -> Iterator[Metric]:
        recs = snapshot.load(self.c)
        yield GaugeMetricFamily(
            "ird_redis_up",
            "Whether this process reaches Redis (0: calls go straight to the "
            "vendor, the queue and dashboards stand still)",
            value=1,
        )
        yield GaugeMetricFamily(
            "ird_redis_writable",
            "Whether Redis takes this process's writes (0: refused, e.g. "
            "a master with no replica in sync: calls go straight to the "
            "vendor)",
            value=_writable(self.c),
        )
        alive = self.heartbeats.alive(within=WORKER_STALE_AFTER)
        yield GaugeMetricFamily(
            "ird_workers_alive",
            f"RQ worker processes whose heartbeat is under {WORKER_STALE_AFTER:.0f} s old",
            value=alive,
        )
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
        yield GaugeMetricFamily(
            "ird_liaison_window_seconds",
            "LIAISON_WINDOW: a request still waiting after this goes to the vendor",
            value=self.c.settings.liaison_window,
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

        for counter, by_label in self.c.counters.read().items():
            family = CounterMetricFamily(counter.name, counter.help, labels=[counter.label] if counter.label else None)
            for value, count in sorted(by_label.items()):
                family.add_metric([value] if counter.label else [], count)
            yield family


class RedisDown(Collector):
    """What a scrape gets while this process cannot reach Redis."""

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("ird_redis_up", "Whether this process reaches Redis", value=0)


def _writable(c: Context) -> int:
    """A master that answers may still refuse writes (min-replicas-to-write with no replica in
    sync, a demoted master): the service is then as good as without Redis."""
    try:
        c.counters.probe_write()
        return 1
    except redis.RedisError as exc:
        if not unavailable(exc):
            raise
        log.warning("metrics: Redis refuses writes (%s)", str(exc).split(" ", 1)[0])
        return 0


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
    token = settings().metrics_token
    if token and not bearer_ok(token, request.headers.get("Authorization", "")):
        log_refusal("missing or wrong metrics bearer token")
        return Response(
            "401 Unauthorized\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DispatchCollector(ctx(), wiring().heartbeats))
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    try:
        body = encoder(registry)
    except redis.RedisError as exc:
        # Still 200: Prometheus's `up` then stays about this process, ird_redis_up about Redis.
        log.warning("metrics: Redis unavailable (%s)", type(exc).__name__)
        down = CollectorRegistry(auto_describe=False)
        down.register(RedisDown())
        body = encoder(down)
    return Response(body, content_type=content_type)
