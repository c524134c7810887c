"""Attacks on the receipt's corrections, performed over HTTP against a real gunicorn: a forged
cross-site POST, a viewer's, a tool's API token, markup and oversized values. Each is refused
and the record keeps what it had."""

from __future__ import annotations

import pytest
import requests

from dispatch.api_tokens import create as create_token
from tests.support.dashboard import accept, end_call, open_request, route
from tests.support.dashboard_http import Browser, bearer


@pytest.fixture
def done(app, jobs):  # type: ignore[no-untyped-def]
    rec = open_request(app, officer_call="CA" + "7" * 32)
    route(app, jobs)
    accept(app, rec.id)
    return end_call(app, rec.id)


def test_forged_viewer_and_token_corrections_are_refused(gunicorn, ctx, done):
    server = gunicorn()
    path = f"{server.url}/dashboard/requests/{done.id}/receipt"
    sergeant = Browser(server.url)
    assert sergeant.sign_in("sergeant").status_code == 303
    # A page elsewhere posting the form with the sergeant's cookie, without the token.
    forged = sergeant.post(path, data={"incident": "666"}, allow_redirects=False, timeout=30)
    assert forged.status_code == 400
    viewer = Browser(server.url)
    viewer.sign_in("viewer")
    refused = viewer.post(path, data={"incident": "666", "csrf_token": viewer.page_csrf()}, timeout=30)
    assert refused.status_code == 403
    token = create_token(ctx.redis, "wallboard")
    assert requests.post(path, data={"incident": "666"}, headers=bearer(token), timeout=30).status_code == 401
    assert requests.get(f"{server.url}/dashboard/api/requests/{done.id}/receipt", headers=bearer(token), timeout=30).ok
    assert ctx.requests.get(done.id).incident == ""


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "1" * 10_000, "2026 012345", "inc\r\nX: y"])
def test_markup_and_oversized_values_are_refused_and_never_shown(gunicorn, ctx, done, value):
    server = gunicorn()
    sergeant = Browser(server.url)
    sergeant.sign_in("sergeant")
    resp = sergeant.post(
        f"{server.url}/dashboard/requests/{done.id}/receipt",
        data={"incident": value, "interpreter_id": value, "csrf_token": sergeant.page_csrf()},
        timeout=30,
    )
    assert resp.status_code == 200 and "Not saved" in resp.text
    assert "<script>alert" not in resp.text
    rec = ctx.requests.get(done.id)
    assert (rec.incident, rec.interpreter_ref) == ("", "")
