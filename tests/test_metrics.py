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
        app.extensions["wiring"].call_ends.interpreter_left(ctx.requests.get(rec.id), "CA" + "a" * 32)
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


def test_any_process_sees_the_same_figures(app, ctx, client, wiring):
    from webhooks import create_app

    open_request(app, "spa")
    other = create_app(wiring).test_client()  # another web process on the same Redis
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


def counter(families, name: str, **labels: str) -> float:  # type: ignore[no-untyped-def]
    """The value of one counter sample (the `_total` sample of family `name`)."""
    family = families[name.removesuffix("_total")]
    assert family.type == "counter", family.type
    found = [s.value for s in family.samples if s.name == name and s.labels == labels]
    assert len(found) == 1, (name, labels, family.samples)
    return found[0]


def test_redis_unreachable_is_reported_as_a_gauge_not_a_failed_scrape(settings, telephony, jobs):
    """Prometheus's own `up` then stays about the web process; ird_redis_up says Redis is gone."""
    from adapters.redis_connection import connect
    from bootstrap import bootstrap
    from tests.support.redis_server import free_port
    from webhooks import create_app

    dead = bootstrap(settings, redis=connect(f"redis://127.0.0.1:{free_port()}/0"), telephony=telephony, jobs=jobs)
    families = scrape(create_app(dead).test_client())
    assert set(families) == {"ird_redis_up"} and samples(families["ird_redis_up"]) == {(): 0.0}


def test_redis_up_workers_alive_and_the_liaison_window(client, ctx, wiring):
    import time

    wiring.heartbeats.beat("host.1", time.time())
    wiring.heartbeats.beat("host.2", time.time() - 1)
    wiring.heartbeats.beat("gone.3", time.time() - 120)  # a worker killed two minutes ago
    families = scrape(client)
    assert samples(families["ird_redis_up"]) == {(): 1.0}
    assert samples(families["ird_redis_writable"]) == {(): 1.0}
    assert samples(families["ird_workers_alive"]) == {(): 2.0}
    assert samples(families["ird_liaison_window_seconds"]) == {(): ctx.settings.liaison_window}


def test_counters_start_at_zero_for_every_known_label_value(client):
    families = scrape(client)
    assert counter(families, "ird_webhook_errors_total") == 0
    assert counter(families, "ird_signin_lockouts_total") == 0
    for outcome in ("dial-failed", "busy", "no-answer", "hung-up-before-joining"):
        assert counter(families, "ird_vendor_dial_failures_total", outcome=outcome) == 0
    for finding in ("ended", "abandoned", "officer_dropped"):
        assert counter(families, "ird_reconciler_findings_total", finding=finding) == 0


def test_failures_counted_by_one_process_are_reported_by_any(app, ctx, wiring, jobs, telephony, client, monkeypatch):
    """A webhook that raised, a vendor number busy then the alternate not answering, a ghost call
    the reconciler closed, a sign-in lock-out: each counted once, in Redis, so another web
    process on the same Redis reports the same counts."""
    from dispatch import clock
    from tests.support.dashboard import sign_in
    from tests.support.signing import signed_post
    from webhooks import create_app

    intake = wiring.intake

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("injected")

    monkeypatch.setattr(intake, "open_request", boom)
    assert (
        signed_post(
            client,
            ctx.settings,
            "/voice/incoming/language?tries=0",
            {"From": ctx.roster.precincts[0].lines[0], "CallSid": "CA" + "e" * 32, "Digits": "0"},
        ).status_code
        == 200
    )
    monkeypatch.undo()

    for liaison in ctx.roster.liaisons:
        ctx.liaisons.set_duty(liaison.id, False)
    rec = open_request(app, None)
    route(app, jobs)  # nobody on duty: the vendor's main number
    token = ctx.requests.get(rec.id).vendor_token
    wiring.vendor.vendor_call_ended(rec.id, token, telephony.sids[-1], "busy")
    wiring.vendor.vendor_call_ended(rec.id, token, telephony.sids[-1], "busy")  # redelivered: counted once
    route(app, jobs)  # the alternate, which does not answer
    rec = ctx.requests.get(rec.id)
    wiring.vendor.vendor_call_ended(rec.id, rec.vendor_token, telephony.sids[-1], "no-answer")

    for liaison in ctx.roster.liaisons:
        ctx.liaisons.set_duty(liaison.id, None)
    ghost = open_request(app, "spa", officer_call="CA" + "f" * 32)
    route(app, jobs)
    ghost = accept(app, ghost.id)
    telephony.statuses.update({ghost.handler_call: "completed", ghost.officer_call: "completed"})
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + ctx.settings.reconcile_seconds)
    assert wiring.reconciler.run() == 1
    monkeypatch.setattr(clock, "now", real_now)

    for _ in range(ctx.settings.signin_max_failures):
        sign_in(client, "sergeant", "not-the-password")

    other = scrape(create_app(wiring).test_client())  # another process on the same Redis
    assert counter(other, "ird_webhook_errors_total") == 1
    assert counter(other, "ird_vendor_dial_failures_total", outcome="busy") == 1
    assert counter(other, "ird_vendor_dial_failures_total", outcome="no-answer") == 1
    assert counter(other, "ird_reconciler_findings_total", finding="ended") == 1
    assert counter(other, "ird_signin_lockouts_total") == 1
    assert scrape(client).keys() == other.keys()


def test_a_redis_that_answers_but_refuses_writes_is_reported(client, ctx):
    """As a promoted master with no replica in sync does (min-replicas-to-write): reads work,
    every write is refused, and the service is as good as without Redis."""
    ctx.redis.config_set("min-replicas-to-write", 1)  # this test Redis has no replica
    try:
        families = scrape(client)
    finally:
        ctx.redis.config_set("min-replicas-to-write", 0)
    assert samples(families["ird_redis_up"]) == {(): 1.0}
    assert samples(families["ird_redis_writable"]) == {(): 0.0}
    assert "ird_liaisons" in families, "what can be read is still reported"
    assert samples(scrape(client)["ird_redis_writable"]) == {(): 1.0}
