"""Faults at the webhook edge: bad signatures, Redis down, handler exceptions, rate limits.

Each test injects the fault for real (a dead Redis port, a handler that raises,
forged signatures) and asserts what the officer would get: valid TwiML that still
reaches an interpreter, within the bound, never a 500.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest
from twilio.request_validator import RequestValidator

from dispatch.context import Context
from dispatch.redis_conn import connect
from tests.support.redis_server import free_port
from tests.support.signing import signed_post

OFFICER = "CA" + "a" * 32


def parse(response) -> ET.Element:
    assert response.status_code == 200, (response.status_code, response.data[:300])
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


def assert_direct_vendor(root: ET.Element, ctx: Context) -> None:
    number = root.find("Dial/Number")
    assert number is not None, ET.tostring(root)
    assert number.text == ctx.roster.vendor.number
    vendor = ctx.roster.vendor
    assert number.get("sendDigits") == vendor.dtmf_for(vendor.unknown_language_code)


@pytest.fixture
def dead_redis_app(ctx, telephony, jobs):
    """The app wired to a Redis port where nothing listens."""
    from webhooks import create_app

    dead = Context(
        ctx.settings, connect(f"redis://127.0.0.1:{free_port()}/0"), ctx.roster, ctx.catalog, telephony, jobs
    )
    return create_app(context=dead)


def test_signature_checked_against_public_url_behind_a_tls_proxy(ctx, r, telephony, jobs):
    from dataclasses import replace

    from dispatch.context import build_context
    from webhooks import create_app

    behind_proxy = replace(ctx.settings, public_base_url="https://dispatch.example.gov")
    ctx = build_context(behind_proxy, jobs=jobs, telephony=telephony, r=r)
    client = create_app(context=ctx).test_client()
    params = {"From": ctx.roster.precincts[0].lines[0], "CallSid": OFFICER, "SomeNewTwilioField": "x"}
    sig = RequestValidator(ctx.settings.twilio_auth_token).compute_signature(
        "https://dispatch.example.gov/voice/incoming", params
    )
    # The proxy forwards plain http to an internal host; the signature still verifies.
    ok = client.post(
        "http://10.0.0.5:8000/voice/incoming",
        data=params,
        headers={"X-Twilio-Signature": sig, "X-Forwarded-Proto": "http"},
    )
    assert ok.status_code == 200 and parse(ok).find("Gather") is not None
    tampered = dict(params, From="+13475550100")
    assert client.post("/voice/incoming", data=tampered, headers={"X-Twilio-Signature": sig}).status_code == 403


@pytest.mark.parametrize(
    "path", ["/voice/incoming", "/voice/status", "/voice/offer/status?r=R1&o=x&l=y", "/sms/incoming", "/voice/fallback"]
)
def test_missing_signature_is_403_on_every_twilio_webhook(client, ctx, path):
    response = client.post(path, data={"From": "+17185550101", "CallSid": OFFICER, "CallStatus": "completed"})
    assert response.status_code == 403
    assert ctx.requests.open_ids() == []


def test_redis_down_incoming_call_still_gets_the_menu_and_its_language_reaches_the_vendor(dead_redis_app, ctx):
    """The menu needs no Redis: the officer chooses a language as usual, and the request
    that cannot be queued goes straight to the vendor with that language's DTMF."""
    client = dead_redis_app.test_client()
    line = ctx.roster.precincts[0].lines[0]
    started = time.monotonic()
    menu = parse(signed_post(client, ctx.settings, "/voice/incoming", {"From": line, "CallSid": OFFICER}))
    action = menu.find("Gather").get("action")[len(ctx.settings.public_base_url) :]
    readback = parse(signed_post(client, ctx.settings, action, {"From": line, "CallSid": OFFICER, "Digits": "1"}))
    assert "Spanish" in " ".join(s.text for s in readback.iter("Say"))
    confirm = readback.find("Gather").get("action")[len(ctx.settings.public_base_url) :]
    root = parse(signed_post(client, ctx.settings, confirm, {"From": line, "CallSid": OFFICER, "Digits": "1"}))
    elapsed = time.monotonic() - started
    vendor = ctx.roster.vendor
    assert root.find("Dial/Number").text == vendor.number
    assert root.find("Dial/Number").get("sendDigits") == vendor.dtmf_for(
        vendor.language_codes.get("spa") or ctx.catalog.get("spa").vendor_code
    )
    assert elapsed < 2.0, f"three webhooks took {elapsed:.2f}s"


def test_redis_down_mid_ivr_keeps_the_chosen_language(dead_redis_app, ctx):
    client = dead_redis_app.test_client()
    response = signed_post(
        client,
        ctx.settings,
        "/voice/incoming/confirm?lang=spa&t=0&c=0",
        {"From": ctx.roster.precincts[0].lines[0], "CallSid": OFFICER, "Digits": "1"},
    )
    number = parse(response).find("Dial/Number")
    vendor = ctx.roster.vendor
    code = vendor.language_codes.get("spa") or ctx.catalog.get("spa").vendor_code
    assert number.get("sendDigits") == vendor.dtmf_for(code)


def test_redis_down_status_callback_answers_empty_twiml(dead_redis_app, ctx):
    response = signed_post(
        dead_redis_app.test_client(), ctx.settings, "/voice/status", {"CallSid": OFFICER, "CallStatus": "completed"}
    )
    assert list(parse(response)) == []


def test_fallback_url_needs_no_redis_and_tries_the_alternate(dead_redis_app, ctx):
    client = dead_redis_app.test_client()
    root = parse(
        signed_post(
            client,
            ctx.settings,
            "/voice/fallback",
            {"CallSid": OFFICER, "ErrorCode": "11200", "ErrorUrl": "https://x/voice/incoming"},
        )
    )
    assert_direct_vendor(root, ctx)
    action = root.find("Dial").get("action")
    path = action[len(ctx.settings.public_base_url) :]
    busy = parse(signed_post(client, ctx.settings, path, {"CallSid": OFFICER, "DialCallStatus": "busy"}))
    assert busy.find("Dial/Number").text == ctx.roster.vendor.alternate
    done = parse(signed_post(client, ctx.settings, path, {"CallSid": OFFICER, "DialCallStatus": "completed"}))
    assert done.find("Hangup") is not None and done.find("Dial") is None


def test_an_exception_in_a_handler_gives_direct_vendor_twiml_and_is_logged(app, ctx, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("injected")

    app.extensions["dispatcher"].open_request = boom
    response = signed_post(
        app.test_client(),
        ctx.settings,
        "/voice/incoming/language?t=0",
        {"From": ctx.roster.precincts[0].lines[0], "CallSid": OFFICER, "Digits": "0"},
    )
    assert_direct_vendor(parse(response), ctx)
    assert any("RuntimeError" in rec.getMessage() for rec in caplog.records)


def _ask_for_spanish(client, ctx, number: str, sid: str):
    return parse(
        signed_post(
            client,
            ctx.settings,
            "/voice/incoming/confirm?lang=spa&t=0&c=0",
            {"From": number, "CallSid": sid, "Digits": "1"},
        )
    )


def test_one_phone_cannot_flood_the_queue(client, ctx):
    """Counted where a call would join the queue: past the limit, that phone is told why
    and nothing is queued; other phones are not affected."""
    limit = ctx.settings.caller_rate_limit
    number = ctx.roster.precincts[0].lines[0]
    for i in range(limit):
        assert _ask_for_spanish(client, ctx, number, f"CA{i:032d}").find("Dial/Conference") is not None
    assert len(ctx.requests.open_ids()) == limit
    root = _ask_for_spanish(client, ctx, number, "CA" + "9" * 32)
    assert "Too many calls" in " ".join(s.text for s in root.iter("Say"))
    assert root.find("Dial") is None and root.find("Hangup") is not None
    assert len(ctx.requests.open_ids()) == limit, "nothing queued for the flooding phone"
    menu = parse(signed_post(client, ctx.settings, "/voice/incoming", {"From": number, "CallSid": "CA" + "7" * 32}))
    assert menu.find("Gather") is not None, "the menu itself costs the queue nothing"
    other = _ask_for_spanish(client, ctx, ctx.roster.precincts[1].lines[0], "CA" + "8" * 32)
    assert other.find("Dial/Conference") is not None, "other phones are not affected"
