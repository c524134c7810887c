"""The simulator's IncomingPhoneNumbers, driven by the official twilio SDK: list with the
PhoneNumber filter, fetch, update; an update moves where the next call and text go."""

from __future__ import annotations

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from tests.support.simulator_harness import Harness


@pytest.fixture
def h():
    with Harness() as harness:
        yield harness


def test_the_service_number_is_listed_by_its_number_and_fetched_by_its_sid(h):
    [number] = h.twilio.incoming_phone_numbers.list(phone_number=h.NUMBER)
    assert number.sid.startswith("PN") and len(number.sid) == 34 and number.account_sid == h.ACCOUNT_SID
    assert number.phone_number == h.NUMBER and number.capabilities["voice"] and number.capabilities["sms"]
    assert number.voice_url == h.url("/voice/incoming") and number.voice_method == "POST"
    assert number.voice_fallback_url == h.url("/voice/fallback") and number.status_callback == h.url("/voice/status")
    assert number.sms_url == h.url("/sms/incoming") and number.voice_application_sid is None
    assert number.date_created is not None
    fetched = h.twilio.incoming_phone_numbers(number.sid).fetch()
    assert (fetched.sid, fetched.phone_number) == (number.sid, h.NUMBER)


@pytest.mark.parametrize("pattern", ["+12125550100", "5550100", "212*5*0100"])
def test_the_phone_number_filter_matches_digits_and_wildcards(h, pattern):
    assert [n.phone_number for n in h.twilio.incoming_phone_numbers.list(phone_number=pattern)] == [h.NUMBER]


def test_another_number_is_not_listed_and_an_unknown_sid_is_404(h):
    assert h.twilio.incoming_phone_numbers.list(phone_number="+12125550199") == []
    with pytest.raises(TwilioRestException) as err:
        h.twilio.incoming_phone_numbers("PN" + "0" * 32).fetch()
    assert err.value.status == 404 and err.value.code == 20404


def test_an_update_moves_the_next_call_and_text_to_the_new_urls(h):
    [number] = h.twilio.incoming_phone_numbers.list(phone_number=h.NUMBER)
    h.app.on("/new/voice", "<Response><Hangup/></Response>")
    updated = number.update(
        voice_url=h.url("/new/voice"),
        voice_method="POST",
        status_callback=h.url("/new/status"),
        status_callback_method="POST",
        sms_url=h.url("/new/sms"),
        sms_method="POST",
    )
    assert (updated.voice_url, updated.status_callback, updated.sms_url) == (
        h.url("/new/voice"),
        h.url("/new/status"),
        h.url("/new/sms"),
    )
    assert updated.voice_fallback_url == h.url("/voice/fallback")  # not named: unchanged
    call = h.sim.place_call("+17185550101")
    h.app.wait_hits("/new/voice")
    h.app.wait_hits("/new/status", where=lambda r: r["form"].get("CallStatus") == "completed")
    h.sim.send_sms("+17185550101", h.NUMBER, "Spanish")
    h.app.wait_hits("/new/sms")
    assert not h.app.hits("/voice/incoming") and not h.app.hits("/sms/incoming")
    assert all(r["valid"] for r in h.app.hits()), "signed for the new URLs"
    assert h.ended(call)["status"] == "completed"


def test_bad_values_are_refused_and_change_nothing(h):
    [number] = h.twilio.incoming_phone_numbers.list(phone_number=h.NUMBER)
    with pytest.raises(TwilioRestException) as err:
        number.update(voice_url="ftp://example.test/voice")
    assert err.value.status == 400 and err.value.code == 21502
    with pytest.raises(TwilioRestException):
        number.update(sms_method="PUT")
    assert number.fetch().voice_url == h.url("/voice/incoming")


def test_a_twiml_app_can_be_attached_and_removed(h):
    [number] = h.twilio.incoming_phone_numbers.list(phone_number=h.NUMBER)
    assert number.update(voice_application_sid="AP" + "1" * 32).voice_application_sid == "AP" + "1" * 32
    assert number.update(voice_application_sid="").voice_application_sid is None


def test_wrong_credentials_are_refused(h):
    resp = requests.get(
        f"{h.simulator.url}/2010-04-01/Accounts/{h.ACCOUNT_SID}/IncomingPhoneNumbers.json",
        auth=(h.ACCOUNT_SID, "wrong"),
        timeout=5,
    )
    assert resp.status_code == 401 and resp.json()["code"] == 20003
