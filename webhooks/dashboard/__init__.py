"""The duty sergeant's live queue: page, actions, JSON API and event stream under /dashboard.

One blueprint, split by concern: auth (sign-in, sessions, CSRF, roles), views (the page
and the actions), api (JSON), stream (server-sent events). Data shaping lives in
dispatch.queue_view and dispatch.stats; reading Redis for it in snapshot.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

# Self-contained page: no CDN, no inline script or style, nothing framed or framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


@bp.after_request
def _headers(resp: Response) -> Response:
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response | HTTPException:
    """JSON for the page's fetches and other tools; the plain error page for a browser GET."""
    if (
        request.method == "GET"
        and request.accept_mimetypes.accept_html
        and not request.path.startswith(("/dashboard/api/", "/dashboard/stream"))
    ):
        return exc
    resp = jsonify(error=exc.description or exc.name)
    resp.status_code = exc.code or 500
    return resp


from webhooks.dashboard import api, auth, favicon, stream, views  # noqa: F401  (routes register on bp)
