"""GET /codes: the printable code card as one self-contained HTML page."""

from __future__ import annotations

import re

import flask
import pytest

from dispatch.languages import default_catalog
from webhooks.codes import bp


@pytest.fixture(scope="module")
def page() -> tuple[int, str, str, dict]:
    app = flask.Flask(__name__)
    app.register_blueprint(bp)
    resp = app.test_client().get("/codes")
    return resp.status_code, resp.mimetype, resp.get_data(as_text=True), dict(resp.headers)


def test_serves_html(page):
    status, mimetype, body, headers = page
    assert status == 200 and mimetype == "text/html"
    assert body.startswith("<!doctype html>")
    assert 'charset="utf-8"' in body and 'name="viewport"' in body  # readable on a tablet
    assert "max-age" in headers.get("Cache-Control", "")


def test_self_contained_and_printable(page):
    body = page[2]
    assert "<style>" in body and "@media print" in body and "@page" in body
    assert "<script" not in body.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", body), "no external resources"
    assert "<link" not in body.lower()


def test_lists_every_code_and_the_reserved_ones(page):
    body = page[2]
    assert "0 = language unknown → connects the vendor" in body and "9 = urgent" in body
    codes = set(re.findall(r"<li><b>(\d+)</b>", body))
    assert codes == {lang.keypad for lang in default_catalog().all()}
    # Top languages come first, in rank order.
    first = re.findall(r"<li><b>\d+</b> <span>([^<]+)", body)[:3]
    assert [name.strip() for name in first] == ["Spanish", "Mandarin", "Cantonese"]


def test_endonyms_are_shown_and_escaped(page):
    body = page[2]
    for text in ("Español", "ייִדיש", "ਪੰਜਾਬੀ", "Kreyòl ayisyen", "K&#x27;iche&#x27;"):
        assert text in body, text
    assert "<span>K'iche'" not in body
