"""GET /codes: the printable language code card as one self-contained HTML page.

Thin by design (DESIGN.md): the page is rendered by dispatch.languages.card from the
catalog, so the card on a precinct's tablet always matches what the IVR accepts.
"""

from __future__ import annotations

import flask

from dispatch.languages import default_catalog
from dispatch.languages.card import render_html

bp = flask.Blueprint("codes", __name__)


@bp.get("/codes")
def codes() -> flask.Response:
    """The code card; cacheable for a few minutes since the catalog changes only on deploy."""
    resp = flask.Response(render_html(default_catalog()), mimetype="text/html")
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp
