"""/healthz: is Redis reachable, is any worker alive? For load balancers and operators."""

from __future__ import annotations

from flask import Blueprint, jsonify

from webhooks.deps import ctx, wiring

bp = Blueprint("health", __name__)
WORKER_STALE_AFTER = 30.0


@bp.get("/healthz")
def healthz():
    body: dict[str, object] = {"redis": "down", "workers": 0}
    workers = 0
    try:
        ctx().redis.ping()
        body["redis"] = "ok"
        body["workers"] = workers = wiring().heartbeats.alive(within=WORKER_STALE_AFTER)
    except Exception as exc:  # any Redis failure means "down", not a 500
        body["error"] = type(exc).__name__
    healthy = body["redis"] == "ok" and workers > 0
    body["status"] = "ok" if healthy else "degraded"
    return jsonify(body), 200 if healthy else 503
