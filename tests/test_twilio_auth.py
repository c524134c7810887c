"""The webhook signature check: the quick signer agrees with the SDK, and what only the
SDK's full check accepts (Twilio's port variants) is still accepted."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from webhooks.twilio_auth import Signer

TOKEN = "test-auth-token-0123456789abcdef"
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(
    url=st.sampled_from(
        ["https://dispatch.example/voice/incoming", "http://127.0.0.1:8000/voice/incoming/language?t=1&u=&p=7"]
    ),
    params=st.dictionaries(_text, _text, max_size=10),
)
def test_the_quick_signer_gives_the_sdk_signature(url, params):
    assert Signer(TOKEN).sign(url, params) == RequestValidator(TOKEN).compute_signature(url, params)


def test_a_different_token_or_field_gives_a_different_signature():
    params = {"From": "+12125550100", "CallSid": "CA" + "a" * 32}
    signer = Signer(TOKEN)
    assert signer.sign("https://x/voice", params) != Signer(TOKEN + "x").sign("https://x/voice", params)
    assert signer.sign("https://x/voice", params) != signer.sign("https://x/voice", {**params, "From": "+1"})


def test_a_signature_over_the_url_without_its_port_is_accepted(client, settings, ctx):
    """Twilio may sign the URL with or without the port; only the SDK's full check tries both."""
    line = ctx.roster.precincts[0].lines[0]
    params = {"From": line, "CallSid": "CA" + "d" * 32, "AccountSid": settings.twilio_account_sid}
    assert ":1" in settings.public_base_url
    without_port = settings.public_base_url.replace(":1", "") + "/voice/incoming"
    sig = RequestValidator(settings.twilio_auth_token).compute_signature(without_port, params)
    response = client.post("/voice/incoming", data=params, headers={"X-Twilio-Signature": sig})
    assert response.status_code == 200 and b"<Gather" in response.data
    forged = client.post(
        "/voice/incoming", data={**params, "From": "+12125550199"}, headers={"X-Twilio-Signature": sig}
    )
    assert forged.status_code == 403


def test_status_callbacks_get_their_own_base_url_and_callers_webhooks_the_public_one():
    from dispatch import urls as paths
    from dispatch.urls import Urls

    urls = Urls("https://dispatch.example/", "https://status.example")
    assert urls(paths.VENDOR_STATUS, r="R00001") == "https://status.example/voice/vendor/status?r=R00001"
    assert urls(paths.OFFER_STATUS) == "https://status.example/voice/offer/status"
    assert urls(paths.HOLD, r="R1") == "https://dispatch.example/voice/hold?r=R1"
    assert urls(paths.OFFER) == "https://dispatch.example/voice/offer"
    assert Urls("https://dispatch.example").base_for(paths.CALL_STATUS) == "https://dispatch.example"


def _split_app(ctx, settings):
    from dataclasses import replace

    from dispatch.context import build_context
    from webhooks import create_app

    split = replace(settings, status_callback_base_url="http://127.0.0.1:2")
    context = build_context(split, jobs=ctx.jobs, telephony=ctx.telephony, r=ctx.redis)
    app = create_app(context=context)
    app.config["TESTING"] = True
    return app, context


def test_a_status_callback_signed_over_either_base_is_accepted_and_a_forged_one_is_not(ctx, settings):
    app, _context = _split_app(ctx, settings)
    client = app.test_client()
    params = {"CallSid": "CA" + "c" * 32, "CallStatus": "completed", "AccountSid": settings.twilio_account_sid}
    validator = RequestValidator(settings.twilio_auth_token)
    for base in ("http://127.0.0.1:2", settings.public_base_url):  # status base; a number set up on the public host
        sig = validator.compute_signature(base + "/voice/status", params)
        assert client.post("/voice/status", data=params, headers={"X-Twilio-Signature": sig}).status_code == 200
    sig = validator.compute_signature("http://127.0.0.1:3/voice/status", params)
    assert client.post("/voice/status", data=params, headers={"X-Twilio-Signature": sig}).status_code == 403


def test_calls_placed_report_their_status_to_the_status_base(ctx, settings, telephony):
    from dispatch.routing import Caller, Dispatcher

    _app, context = _split_app(ctx, settings)
    line = context.roster.precincts[0].lines[0]
    dispatcher = Dispatcher(context)
    rec = dispatcher.open_request(
        Caller(line, "precinct", context.roster.precincts[0].id),
        context.catalog.get("spa"),
        officer_call="CA" + "b" * 32,
    )
    dispatcher.route(rec.id)
    call = telephony.calls[-1]
    assert call.status_callback.startswith("http://127.0.0.1:2/voice/")
    assert call.url.startswith(settings.public_base_url + "/voice/")
