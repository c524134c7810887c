"""Property-based: whatever Twilio (or an attacker with the token) posts, the answer
is well-formed TwiML with a <Response> root, never a 500."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from tests.support.signing import signed_post

PATHS = [
    "/voice/incoming",
    "/voice/incoming/language?t=0",
    "/voice/incoming/language?t=2&u=1",
    "/voice/incoming/confirm?lang=spa&t=0&c=0",
    "/voice/incoming/choose?opts=cmn,yue&t=0",
    "/voice/incoming/precinct?t=0",
    "/voice/incoming/pin?p=75&t=0",
    "/voice/hold?r=R00001&n=0",
    "/voice/offer?r=R00001&o=x&l=y",
    "/voice/offer/answer?r=R00001&o=x&l=y",
    "/voice/offer/status?r=R1&o=x&l=y",
    "/voice/vendor?r=R00001&v=x",
    "/voice/vendor/status?r=R00001&v=x",
    "/voice/status",
    "/voice/conference?r=R1",
    "/voice/dropped?r=R00001",
    "/voice/failed?r=R00001",
    "/voice/retry?r=R00001",
    "/voice/after?r=R1",
    "/voice/fallback",
    "/voice/fallback?step=alternate",
    "/voice/rejoin?r=R00001&k=x&m=dropped",
    "/voice/rejoin/answer?r=R00001&k=x",
    "/voice/rejoin/officer?r=R00001&k=x",
    "/voice/rejoin/officer/answer?r=R00001&k=x&t=9",
    "/voice/rejoin/officer/status?r=R1&k=x",
    "/voice/rejoin/menu?r=R1",
]

text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="0123456789#*", max_size=40),
    st.sampled_from(
        [
            "",
            "0",
            "9",
            "1",
            "2",
            "#",
            "<Response><Dial>+15555550100</Dial></Response>",
            "🙂🙂🙂",
            "x" * 1600,
            "Spanish",
            "chinese",
            "I need Russian please",
            "\x00\x01",
        ]
    ),
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "From": st.one_of(st.just("+17185550101"), text),
        "Digits": text,
        "SpeechResult": text,
        "Confidence": st.one_of(st.just("0.9"), st.just("0.05"), text),
        "CallStatus": st.one_of(
            st.sampled_from(["completed", "no-answer", "busy", "failed", "ringing", "in-progress"]), text
        ),
        "StatusCallbackEvent": text,
        "DialCallStatus": text,
        "CallSid": text,
    },
)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), params=fields)
def test_any_form_gives_well_formed_twiml(client, settings, ctx, path, params):
    clean = {k: v.replace("\x00", "") for k, v in params.items()}
    response = signed_post(client, settings, path, clean)
    assert response.status_code == 200, (path, clean, response.data[:200])
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    allowed = {ctx.roster.vendor.number, ctx.roster.vendor.alternate}
    for number in root.iter("Number"):
        assert number.text in allowed, "input must never choose whom we dial"
    for el in root.iter():
        for attr in ("action", "url"):
            if el.get(attr):
                assert el.get(attr).startswith(settings.public_base_url)


def test_wrong_content_type_is_refused_not_crashed(client, settings):
    response = client.post(
        "/voice/incoming",
        data='{"From": "+17185550101"}',
        content_type="application/json",
        headers={"X-Twilio-Signature": "x"},
    )
    assert response.status_code == 403


def test_thirty_digit_entry_is_asked_again(client, settings, ctx):
    response = signed_post(
        client,
        settings,
        "/voice/incoming/language?t=0",
        {"From": ctx.roster.precincts[0].lines[0], "CallSid": "CA1", "Digits": "1" * 30},
    )
    root = ET.fromstring(response.data)
    assert root.find("Gather") is not None
    assert ctx.requests.open_ids() == []
