"""/healthz: is Redis reachable, is any worker alive? For load balancers and operators."""

from __future__ import annotations

import time

from flask import Blueprint, jsonify

from dispatch import keys
from webhooks.deps import ctx

bp = Blueprint("health", __name__)
WORKER_STALE_AFTER = 30.0


@bp.get("/healthz")
def healthz():
    c = ctx()
    body: dict[str, object] = {"redis": "down", "workers": 0}
    try:
        c.redis.ping()
        body["redis"] = "ok"
        cutoff = time.time() - WORKER_STALE_AFTER
        body["workers"] = c.redis.zcount(keys.WORKER_HEARTBEAT, cutoff, "+inf")
    except Exception as exc:  # any Redis failure means "down", not a 500
        body["error"] = type(exc).__name__
    healthy = body["redis"] == "ok" and body["workers"] > 0  # type: ignore[operator]
    body["status"] = "ok" if healthy else "degraded"
    return jsonify(body), 200 if healthy else 503
