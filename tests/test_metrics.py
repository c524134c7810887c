"""/metrics: valid Prometheus text, the documented families, values read from Redis at scrape time."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dispatch import clock
from tests.support.dashboard import accept, open_request, route


def scrape(client) -> dict[str, object]:  # type: ignore[no-untyped-def]
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(resp.get_data(as_text=True))}


def samples(family, name: str | None = None) -> dict[tuple, float]:  # type: ignore[no-untyped-def]
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples if name is None or s.name == name}


def test_the_families_exist_even_when_nothing_has_happened(client):
    families = scrape(client)
    assert families["ird_requests"].type == "gauge"
    assert families["ird_time_to_interpreter_seconds"].type == "histogram"
    assert families["ird_liaisons"].type == "gauge"
    assert families["ird_requests_waiting_oldest_seconds"].type == "gauge"
    assert samples(families["ird_requests"]) == {}
    liaisons = samples(families["ird_liaisons"])
    assert set(liaisons) == {(("state", s),) for s in ("idle", "ringing", "on_call", "wrapup", "off")}


def test_requests_by_state_and_language(app, ctx, jobs, client):
    a = open_request(app, "spa")
    open_request(app, "spa")
    route(app, jobs)  # both Spanish liaisons ringing
    open_request(app, "tir")  # queued, not yet routed
    accept(app, a.id)
    got = samples(scrape(client)["ird_requests"])
    assert got == {
        (("language", "spa"), ("state", "connected")): 1,
        (("language", "spa"), ("state", "offering")): 1,
        (("language", "tir"), ("state", "queued")): 1,
    }


def test_time_to_interpreter_histogram_of_todays_connected_requests(app, ctx, jobs, client):
    for language, delay in (("spa", 3.0), ("rus", 12.0), ("cmn", 50.0)):
        rec = open_request(app, language)
        route(app, jobs)
        ctx.requests.set_fields(rec.id, {"queued_at": clock.now() - delay})  # as if it had waited
        accept(app, rec.id)
        app.extensions["dispatcher"].interpreter_left(ctx.requests.get(rec.id), "CA" + "a" * 32)
    family = scrape(client)["ird_time_to_interpreter_seconds"]
    buckets = {
        s.labels["le"]: s.value
        for s in family.samples
        if s.name.endswith("_bucket") and s.labels["handler"] == "liaison"
    }
    assert buckets["5.0"] == 1 and buckets["15.0"] == 2 and buckets["45.0"] == 2 and buckets["60.0"] == 3
    assert buckets["+Inf"] == 3
    count = samples(family, "ird_time_to_interpreter_seconds_count")
    total = samples(family, "ird_time_to_interpreter_seconds_sum")
    assert count[(("handler", "liaison"),)] == 3 and count[(("handler", "vendor"),)] == 0
    assert total[(("handler", "liaison"),)] == pytest.approx(65.0, abs=1.0)


def test_liaisons_by_state_and_the_oldest_wait(app, ctx, jobs, client):
    rec = open_request(app, "spa")
    route(app, jobs)  # one Spanish liaison ringing
    ctx.requests.set_fields(rec.id, {"queued_at": clock.now() - 42})
    ctx.liaisons.set_duty("l-chen", False)
    families = scrape(client)
    liaisons = {k[0][1]: v for k, v in samples(families["ird_liaisons"]).items()}
    assert liaisons["ringing"] == 1 and liaisons["off"] >= 1
    assert sum(liaisons.values()) == len(ctx.roster.liaisons)
    oldest = samples(families["ird_requests_waiting_oldest_seconds"])[()]
    assert 42 <= oldest < 50


def test_any_process_sees_the_same_figures(app, ctx, client):
    from webhooks import create_app

    open_request(app, "spa")
    other = create_app(context=ctx).test_client()  # another web process on the same Redis
    assert samples(scrape(other)["ird_requests"]) == samples(scrape(client)["ird_requests"]) != {}


def test_no_phone_number_is_exposed(app, ctx, client):
    open_request(app, "spa")
    text = client.get("/metrics").get_data(as_text=True)
    assert ctx.roster.precincts[0].lines[0] not in text and "+1" not in text


def test_openmetrics_for_scrapers_that_ask_for_it(app, client):
    from prometheus_client.openmetrics.parser import (
        text_string_to_metric_families as openmetrics,
    )

    open_request(app, "spa")
    resp = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/openmetrics-text")
    names = {f.name for f in openmetrics(resp.get_data(as_text=True))}
    assert {"ird_requests", "ird_time_to_interpreter_seconds", "ird_liaisons"} <= names
