"""Inbound SMS reach the app as Twilio sends them; TwiML replies are recorded as outbound SMS."""

from __future__ import annotations

import pytest

from simulator.testing import Harness

SUPERVISOR = "+12125550150"


@pytest.fixture
def h():
    with Harness() as harness:
        yield harness


def test_inbound_sms_with_media_and_a_twiml_reply(h):
    h.app.on(
        "/sms/incoming", "<Response><Message>Spanish interpreter requested. We will call you.</Message></Response>"
    )
    sid = h.sim.send_sms(SUPERVISOR, h.NUMBER, "spa", media_urls=["https://example.test/card.png"])
    hit = h.app.wait_hits("/sms/incoming")[0]
    form = hit["form"]
    assert hit["valid"]
    assert form["MessageSid"] == form["SmsSid"] == form["SmsMessageSid"] == sid and sid.startswith("SM")
    assert {k: form[k] for k in ("AccountSid", "From", "To", "Body", "NumMedia", "NumSegments", "ApiVersion")} == {
        "AccountSid": h.ACCOUNT_SID,
        "From": SUPERVISOR,
        "To": h.NUMBER,
        "Body": "spa",
        "NumMedia": "1",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }
    assert form["MediaUrl0"] == "https://example.test/card.png" and form["MediaContentType0"] == "image/png"
    reply = h.sim.wait_for(lambda: h.sim.messages())[0]
    assert reply["to"] == SUPERVISOR and reply["from"] == h.NUMBER and reply["source"] == "twiml"
    assert reply["body"].startswith("Spanish interpreter requested")


def test_empty_reply_sends_nothing_and_errors_are_logged(h):
    h.app.on("/sms/incoming", "<Response/>")
    h.sim.send_sms(SUPERVISOR, h.NUMBER, "hello")
    h.app.wait_hits("/sms/incoming")
    h.app.on("/sms/incoming", 500)
    h.sim.send_sms(SUPERVISOR, h.NUMBER, "again")
    h.sim.wait_for(lambda: any("11200" in e["text"] for e in h.sim.log()))
    assert h.sim.messages() == []
