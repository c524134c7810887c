"""Fault 8 (gaps): bad bytes on every voice and SMS webhook, deterministically.

tests/test_webhook_properties.py throws Hypothesis-generated forms at the voice IVR
paths; this file adds a fixed matrix over *every* Twilio-facing path — the voice IVR,
the interpreter legs of a live offer and a live vendor dial, the conference and status
callbacks, the SMS webhook, the call-back legs and a dropped officer's rejoin legs —
with the inputs Twilio could plausibly mangle (missing fields, 30-digit and non-DTMF
Digits, empty or unsure speech, nonsense statuses) and with the wrong content type.
Every answer must be well-formed TwiML the handler itself produced: a 200 with a
<Response> root, never a 500 and never the crash fallback (an exception turned into a
direct vendor dial).
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

import pytest
from twilio.request_validator import RequestValidator

from dispatch.roster import Caller
from dispatch.sms.service import Inbound
from dispatch.states import State
from tests.support.signing import signed_post

OFFICER = "CA" + "e" * 32
LINE = "+17185550102"  # a registered precinct line of the sample roster: the IVR goes past "who is calling"

BAD_FORMS = {
    "no fields at all": {},
    "30-digit Digits": {"From": LINE, "Digits": "1" * 30},
    "DTMF junk": {"From": LINE, "Digits": "*#*#0000##*"},
    "not DTMF": {"From": LINE, "Digits": "abc²½١٢"},
    "a superscript digit": {"From": LINE, "Digits": "²"},
    "Arabic-Indic digits": {"From": LINE, "Digits": "١٢"},
    "empty speech": {"From": LINE, "SpeechResult": "", "Confidence": ""},
    "unsure speech": {"From": LINE, "SpeechResult": "Spanish", "Confidence": "0.01"},
    "confidence not a number": {"From": LINE, "SpeechResult": "Spanish", "Confidence": "high"},
    "confidence NaN": {"From": LINE, "SpeechResult": "Russian", "Confidence": "NaN"},
    "speech junk": {"From": LINE, "SpeechResult": "\u202e🙂\x07<Say>x</Say>" * 40, "Confidence": "0.95"},
    "status nonsense": {
        "CallStatus": "exploded",
        "StatusCallbackEvent": "participant-explode",
        "DialCallStatus": "maybe",
    },
    "status for an unknown call": {
        "CallSid": "CA" + "0" * 32,
        "CallStatus": "completed",
        "StatusCallbackEvent": "participant-leave",
    },
    "From junk": {"From": "<script>alert(1)</script>", "Body": "spanish", "MessageSid": "SM" + "7" * 32},
    "From 30 digits": {"From": "+1" + "5" * 30, "Body": "HELP", "NumMedia": "-3"},
    "every field at 2000 chars": dict.fromkeys(
        ("Digits", "SpeechResult", "Confidence", "CallStatus", "From", "Body", "MessageSid", "CallSid"), "9" * 2000
    ),
}


@pytest.fixture
def paths(ctx, jobs, telephony, wiring):
    """Every webhook path, with the query a live call would carry (a real request, offer
    and vendor attempt behind them, so the handlers go past their 'unknown' branches)."""
    dispatcher = wiring
    precinct = ctx.roster.precincts[0]
    offered = dispatcher.intake.open_request(
        Caller(precinct.lines[0], "precinct", precinct.id), ctx.catalog.get("spa"), officer_call=OFFICER
    )
    jobs.drain()
    offer = ctx.requests.get(offered.id)
    assert offer.state == State.OFFERING
    vendor = dispatcher.intake.open_request(
        Caller(precinct.lines[1], "precinct", precinct.id), None, officer_call="CA" + "d" * 32
    )
    jobs.drain()
    vend = ctx.requests.get(vendor.id)
    assert vend.state == State.VENDOR_DIALING
    dispatcher.texts.handle(Inbound(ctx.roster.supervisors[0].cell, "bengali", "SM" + "5" * 32))
    texted = [i for i in ctx.requests.open_ids() if i not in (offer.id, vend.id)][0]
    dispatcher.call_backs.place(texted)
    dropped = dispatcher.intake.open_request(
        Caller(ctx.roster.precincts[1].lines[0], "precinct", ctx.roster.precincts[1].id),
        None,
        officer_call="CA" + "c" * 32,
    )  # the vendor on the line, the officer gone
    jobs.drain()
    assert dispatcher.vendor.vendor_answered(dropped.id, ctx.requests.get(dropped.id).vendor_token, "CA" + "b" * 32)
    dispatcher.call_ends.officer_call_ended("CA" + "c" * 32)
    assert (
        dispatcher.rejoin_wait.call_back_asked(
            dropped.id, ctx.requests.get(dropped.id).rejoin_token, "CA" + "b" * 32
        ).step.value
        == "calling"
    )
    rejoining = ctx.requests.get(dropped.id)
    assert rejoining.state == State.REJOINING
    o = f"request={offer.id}&offer={offer.offer_id}&liaison={offer.offer_liaison}"
    v = f"request={vend.id}&dial={vend.vendor_token}"
    j = f"request={dropped.id}&drop={rejoining.rejoin_token}"
    k = f"request={dropped.id}&recall={rejoining.recall}"
    return [
        "/voice/incoming",
        "/voice/incoming/language?tries=0",
        "/voice/incoming/language?tries=1&urgent=1",
        "/voice/incoming/confirm?language=spa&tries=0&again=0",
        "/voice/incoming/choose?choices=cmn,yue&tries=0",
        "/voice/incoming/precinct?tries=0",
        f"/voice/incoming/pin?precinct={precinct.id}&tries=0",
        f"/voice/hold?request={offer.id}&prompts=0",
        f"/voice/offer?{o}",
        f"/voice/offer/answer?{o}",
        f"/voice/offer/status?{o}",
        f"/voice/vendor?{v}",
        f"/voice/vendor/status?{v}",
        "/voice/status",
        f"/voice/conference?request={offer.id}",
        f"/voice/dropped?request={offer.id}",
        f"/voice/failed?request={offer.id}",
        f"/voice/retry?request={offer.id}",
        f"/voice/after?request={offer.id}",
        "/voice/fallback",
        "/voice/fallback?step=alternate",
        f"/voice/callback?request={texted}",
        f"/voice/callback/status?request={texted}",
        "/sms/incoming",
        f"/voice/rejoin?{j}&why=dropped",
        f"/voice/rejoin/answer?{j}",
        f"/voice/rejoin/officer?{k}&tries=0",
        f"/voice/rejoin/officer/answer?{k}&tries=0",
        f"/voice/rejoin/officer/status?{k}",
        f"/voice/rejoin/menu?request={dropped.id}",
    ]


def check(response, path: str, settings, ctx) -> ET.Element:
    assert response.status_code == 200, (path, response.status_code, response.data[:200])
    assert response.mimetype == "text/xml", path
    root = ET.fromstring(response.data)
    assert root.tag == "Response", path
    if path.startswith("/sms/"):
        assert [el.tag for el in root] == ["Message"], response.data
    allowed = {ctx.roster.vendor.number, ctx.roster.vendor.alternate}
    for number in root.iter("Number"):
        assert number.text in allowed, (path, "input chose whom we dial")
    for el in root.iter():
        for attr in ("action", "url", "waitUrl", "statusCallback"):
            if el.get(attr):
                assert el.get(attr).startswith(settings.public_base_url), (path, attr, el.get(attr))
    return root


def crashes(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "webhooks.fallback" and r.levelno >= logging.ERROR and "failed" in r.getMessage()
    ]


@pytest.mark.parametrize("label", list(BAD_FORMS))
def test_bad_fields_on_every_path_get_the_handlers_own_twiml(client, settings, ctx, paths, caplog, label):
    caplog.set_level(logging.INFO)
    for path in paths:
        params = dict(BAD_FORMS[label])
        params.setdefault("CallSid", OFFICER if "Digits" in params or not params else params.get("CallSid", OFFICER))
        check(signed_post(client, settings, path, params), path, settings, ctx)
    assert crashes(caplog) == [], "a handler raised on bad input (answered by the crash fallback)"


def test_thirty_digits_and_junk_never_open_a_request(client, settings, ctx):
    line = ctx.roster.precincts[0].lines[0]
    for digits in ("1" * 30, "*#*#0000##*", "abc²½١٢", "²", "١٢", "#", "*"):
        for path in (
            "/voice/incoming/language?tries=0",
            "/voice/incoming/confirm?language=spa&tries=0&again=0",
            "/voice/incoming/choose?choices=cmn,yue&tries=0",
        ):
            root = check(
                signed_post(client, settings, path, {"From": line, "CallSid": OFFICER, "Digits": digits}),
                path,
                settings,
                ctx,
            )
            assert root.find("Gather") is not None, (path, digits, "asked again")
    for speech, confidence in (("", ""), ("Spanish", "0.01"), ("Spanish", "high"), ("Spanish", "NaN")):
        root = check(
            signed_post(
                client,
                settings,
                "/voice/incoming/language?tries=0",
                {"From": line, "CallSid": OFFICER, "SpeechResult": speech, "Confidence": confidence},
            ),
            "/voice/incoming/language",
            settings,
            ctx,
        )
        assert root.find("Gather") is not None and "Spanish" not in "".join(root.itertext()), (speech, confidence)
    assert ctx.requests.open_ids() == []


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", b'{"From": "+17185550101", "Digits": "1", "CallStatus": "completed"}'),
        ("text/plain", b"From=+17185550101&Digits=1"),
        ("application/xml", b"<Response><Dial>+15555550100</Dial></Response>"),
        ("application/octet-stream", bytes(range(256))),
        ("", b""),
    ],
)
def test_the_wrong_content_type_on_every_path_is_refused_or_answered_never_crashed(
    client, settings, ctx, paths, caplog, content_type, body
):
    """Signed over the URL alone (what a form-less request would carry): the handler sees
    no fields. It must still answer well-formed TwiML, or refuse; nothing is read from
    the unsigned body (the form stays empty for these types)."""
    caplog.set_level(logging.INFO)
    validator = RequestValidator(settings.twilio_auth_token)
    for path in paths:
        sig = validator.compute_signature(settings.public_base_url + path, {})
        response = client.post(path, data=body, content_type=content_type or None, headers={"X-Twilio-Signature": sig})
        if response.status_code in (403, 415):
            continue
        check(response, path, settings, ctx)
    assert crashes(caplog) == []


def test_unsigned_multipart_fields_are_not_trusted(client, settings, ctx, paths):
    """A multipart body's fields are not covered by a signature computed over the URL
    alone; they must not be able to end an officer's waiting request."""
    validator = RequestValidator(settings.twilio_auth_token)
    path = "/voice/status"
    sig = validator.compute_signature(settings.public_base_url + path, {})
    [offered] = [i for i in ctx.requests.open_ids() if ctx.requests.get(i).officer_call == OFFICER]
    client.post(
        path,
        data={"CallSid": OFFICER, "CallStatus": "completed"},
        content_type="multipart/form-data",
        headers={"X-Twilio-Signature": sig},
    )
    assert ctx.requests.get(offered).state == State.OFFERING


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_refused_cleanly(client, paths, method):
    for path in paths:
        response = client.open(path, method=method)
        assert response.status_code in (403, 405), (path, method, response.status_code)
