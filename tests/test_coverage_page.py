"""The coverage report page and its CSV downloads: who may see them, what they show, bad periods."""

from __future__ import annotations

import csv
import io

from dispatch.states import State
from tests.support.dashboard import session_for
from tests.support.dashboard import wiring as wiring_of

SAMPLE_ACS = "config/acs_b16001.sample.csv"


def _ended(app, outcome: str, language: str = "hat", precinct: str = "46"):
    store = wiring_of(app).ctx.requests
    rec = store.create({"language": language, "precinct": precinct}, state=State.QUEUED)
    if outcome == "vendor":
        store.apply(rec.id, "vendor_dial")
        store.apply(rec.id, "vendor_connected", fields={"handler_kind": "vendor"})
        store.apply(rec.id, "complete")
    else:
        store.apply(rec.id, outcome)
    return rec


def test_a_commander_sees_the_report_with_the_figures_and_the_census(app, client):
    assert app.test_cli_runner().invoke(args=["coverage", "import-acs", SAMPLE_ACS]).exit_code == 0
    _ended(app, "vendor")
    _ended(app, "abandon")
    _ended(app, "fail", language="kor", precinct="109")
    session_for(app, client, "commander")
    page = client.get("/dashboard/coverage?period=7")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<dd id="total-requests">3</dd>' in html
    assert "Haitian" in html and "46th Precinct" in html and "Korean" in html
    assert html.count("<svg") == 2 and "<script" not in html
    assert "census: acs_b16001.sample.csv" in html
    assert "Content-Security-Policy" in page.headers


def test_a_sergeant_may_see_it_and_a_viewer_may_not(app, client):
    session_for(app, client, "sergeant")
    assert client.get("/dashboard/coverage").status_code == 200
    assert "Coverage report" in client.get("/dashboard").get_data(as_text=True)
    session_for(app, client, "viewer")
    assert client.get("/dashboard/coverage").status_code == 403
    assert client.get("/dashboard/coverage/precincts.csv").status_code == 403
    assert "Coverage report" not in client.get("/dashboard").get_data(as_text=True)


def test_signed_out_goes_to_sign_in(client):
    resp = client.get("/dashboard/coverage")
    assert resp.status_code == 302 and "/dashboard/signin" in resp.headers["Location"]


def test_a_commander_may_not_act(app, client):
    store = wiring_of(app).ctx.requests
    rec = store.create({"language": "hat", "precinct": "46"}, state=State.QUEUED)
    csrf = session_for(app, client, "commander")
    resp = client.post(f"/dashboard/requests/{rec.id}/cancel", data={"csrf_token": csrf, "confirm": "yes"})
    assert resp.status_code == 403
    assert store.get(rec.id).state == State.QUEUED


def test_each_table_downloads_as_csv_with_the_page_figures(app, client):
    _ended(app, "vendor")
    _ended(app, "abandon")
    session_for(app, client, "commander")
    resp = client.get("/dashboard/coverage/precincts.csv?period=30")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="coverage-precincts-')
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [(r["precinct"], r["language"], r["requests"], r["vendor"], r["abandoned"], r["unmet"]) for r in rows] == [
        ("46", "hat", "2", "1", "1", "2")
    ]
    for name in ("priorities", "hours"):
        assert client.get(f"/dashboard/coverage/{name}.csv").status_code == 200
    assert client.get("/dashboard/coverage/secrets.csv").status_code == 404


def test_a_bad_period_is_answered_with_the_reason(app, client):
    session_for(app, client, "commander")
    resp = client.get("/dashboard/coverage?period=custom&from=2026-02-02&to=2026-02-01")
    assert resp.status_code == 400
    assert "the range starts after it ends" in resp.get_data(as_text=True)
    resp = client.get("/dashboard/coverage/precincts.csv?period=custom&from=<script>&to=x")
    assert resp.status_code == 400
    assert "<script>" not in resp.get_data(as_text=True)
    resp = client.get("/dashboard/coverage?period=<b>x</b>")
    assert resp.status_code == 400 and "<b>x</b>" not in resp.get_data(as_text=True)


def test_the_rebuild_command_counts_again_from_the_records(app, r):
    rec = _ended(app, "abandon")
    _ended(app, "fail")
    w = wiring_of(app)
    day = w.coverage.today()
    before = w.coverage.day_cells(day)
    r.delete(*r.keys("ird:coverage:*"))  # the figures lost (a Redis restored without them)
    result = app.test_cli_runner().invoke(args=["coverage", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "2 records in retention: 2 counted now, 0 already counted" in result.output
    assert w.coverage.day_cells(day) == before
    result = app.test_cli_runner().invoke(args=["coverage", "rebuild", "--recount"])
    assert "0 already counted" in result.output and "days recounted" in result.output
    assert w.coverage.day_cells(day) == before
    assert rec.id not in str(before)
