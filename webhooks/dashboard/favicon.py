"""GET /dashboard/favicon.svg: the pages' icon, cached for a year.

The pages link it with a hash of its content (`?v=`), so a changed icon is a new URL and a
browser never shows a stale one; without a link, every page view would also ask for
/favicon.ico and fill the refused-request log with 404s. No sign-in: the sign-in page
shows it too, and it says nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Response, send_file

from webhooks.dashboard.blueprint import bp

PATH = Path(__file__).resolve().parents[1] / "static" / "dashboard" / "favicon.svg"
VERSION = hashlib.sha256(PATH.read_bytes()).hexdigest()[:12]
MAX_AGE = 365 * 24 * 3600


@bp.get("/favicon.svg")
def favicon() -> Response:
    resp = send_file(PATH, mimetype="image/svg+xml", max_age=MAX_AGE)
    resp.cache_control.public = True
    resp.cache_control.immutable = True
    return resp


@bp.context_processor
def _favicon_version() -> dict[str, str]:
    return {"favicon_version": VERSION}
