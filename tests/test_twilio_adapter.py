"""The Twilio adapter, through the real SDK, against a local stub that records requests."""

from __future__ import annotations

import base64

import pytest

from dispatch.telephony import CallInfo, CallRequest, TelephonyError
from dispatch.telephony.twilio_adapter import TwilioTelephony
from tests.support.http_stub import HttpStub, Scripted

SID = "AC" + "1" * 32
TOKEN = "secret-token"


@pytest.fixture
def stub():
    s = HttpStub()
    yield s
    s.stop()


def adapter(stub: HttpStub, **kw) -> TwilioTelephony:
    return TwilioTelephony(
        SID,
        TOKEN,
        api_base_url=stub.url,
        timeout=kw.pop("timeout", 2.0),
        retries=kw.pop("retries", 3),
        backoff=0.01,
        **kw,
    )


CALL = CallRequest(
    to="+16465550120",
    from_="+12125550100",
    url="https://x.example/voice/offer?r=R1",
    status_callback="https://x.example/voice/offer/status?r=R1",
    timeout=20,
    send_digits="ww123456#ww7890#ww1#",
)


def test_place_call_sends_what_twilio_expects(stub):
    sid = adapter(stub).place_call(CALL)
    assert sid.startswith("CA")
    [req] = stub.requests
    assert req.path == f"/2010-04-01/Accounts/{SID}/Calls.json"
    f = {k: v if len(v) > 1 else v[0] for k, v in req.form.items()}
    assert f["To"] == "+16465550120" and f["From"] == "+12125550100"
    assert f["Url"] == CALL.url and f["StatusCallback"] == CALL.status_callback
    assert f["Timeout"] == "20" and f["SendDigits"] == "ww123456#ww7890#ww1#"
    assert set(f["StatusCallbackEvent"]) == {"initiated", "ringing", "answered", "completed"}
    user, _, password = base64.b64decode(req.headers["Authorization"].split()[1]).decode().partition(":")
    assert (user, password) == (SID, TOKEN)


def test_hangup_redirect_and_sms(stub):
    t = adapter(stub)
    assert t.hangup("CA" + "c" * 32)
    assert t.redirect("CA" + "d" * 32, "https://x.example/voice/dropped?r=R1")
    assert t.send_sms("+19175550110", "+12125550100", "Request R00001: Spanish").startswith("SM")
    hang, redirect, sms = stub.requests
    assert hang.path.endswith("/Calls/CA" + "c" * 32 + ".json") and hang.form["Status"] == ["completed"]
    assert redirect.form["Url"] == ["https://x.example/voice/dropped?r=R1"]
    assert sms.path.endswith("/Messages.json") and sms.form["Body"] == ["Request R00001: Spanish"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_errors_are_retried_then_succeed(stub, status):
    stub.script(Scripted(status, {"code": 20429, "message": "busy", "status": status}))
    assert adapter(stub).place_call(CALL).startswith("CA")
    assert len(stub.requests) == 2


def test_gives_up_after_the_last_try(stub):
    stub.script(*[Scripted(500, {"code": 20500, "message": "down", "status": 500})] * 3)
    with pytest.raises(TelephonyError) as err:
        adapter(stub, retries=3).place_call(CALL)
    assert err.value.status == 500 and not err.value.maybe_placed
    assert len(stub.requests) == 3


def test_client_errors_are_not_retried(stub):
    stub.script(Scripted(400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}))
    with pytest.raises(TelephonyError):
        adapter(stub).place_call(CALL)
    assert len(stub.requests) == 1


def test_a_create_that_times_out_is_not_repeated(stub):
    stub.script(Scripted(201, {}, delay=1.0))
    with pytest.raises(TelephonyError) as err:
        adapter(stub, timeout=0.3).place_call(CALL)
    assert err.value.maybe_placed, "the call may exist: dialling again could ring a phone twice"
    assert len(stub.requests) == 1


def test_hanging_up_an_ended_call_is_not_an_error(stub):
    stub.script(Scripted(400, {"code": 21220, "message": "Call is not in-progress", "status": 400}))
    assert adapter(stub).hangup("CA" + "e" * 32) is False


def test_unreachable_endpoint_raises_after_retries():
    t = TwilioTelephony(SID, TOKEN, api_base_url="http://127.0.0.1:9", retries=2, backoff=0.01)
    with pytest.raises(TelephonyError):
        t.place_call(CALL)


def test_region_and_edge_are_passed_to_the_sdk():
    t = TwilioTelephony(SID, TOKEN, region="ie1", edge="dublin")
    assert t.client.region == "ie1" and t.client.edge == "dublin"
    assert t.client.get_hostname("https://api.twilio.com/2010-04-01") == "https://api.dublin.ie1.twilio.com/2010-04-01"


CALL_SID = "CA" + "f" * 32


def test_fetch_call_reports_the_network_s_status(stub):
    stub.script(
        Scripted(
            200,
            {"sid": CALL_SID, "status": "completed", "from": "+12125550100", "to": "+16465550120", "duration": "42"},
        )
    )
    info = adapter(stub).fetch_call(CALL_SID)
    assert info == CallInfo(sid=CALL_SID, status="completed", from_="+12125550100", to="+16465550120")
    [req] = stub.requests
    assert (req.method, req.path) == ("GET", f"/2010-04-01/Accounts/{SID}/Calls/{CALL_SID}.json")


def test_fetching_a_call_the_network_does_not_know_is_none(stub):
    stub.script(Scripted(404, {"code": 20404, "message": "The requested resource was not found", "status": 404}))
    assert adapter(stub).fetch_call(CALL_SID) is None
    assert len(stub.requests) == 1


def test_a_fetch_is_retried_and_a_refusal_on_every_try_raises(stub):
    stub.script(Scripted(500, {"code": 20500, "message": "down", "status": 500}))
    assert adapter(stub).fetch_call(CALL_SID).status == "queued"  # the stub's default answer
    stub.script(*[Scripted(503, {"code": 20503, "message": "down", "status": 503})] * 2)
    with pytest.raises(TelephonyError) as err:
        adapter(stub, retries=2).fetch_call(CALL_SID)
    assert err.value.status == 503
    assert len(stub.requests) == 4


def test_conference_participants_lists_the_in_progress_room_by_name(stub):
    room = "CF" + "a" * 32
    stub.script(
        Scripted(
            200,
            {
                "conferences": [{"sid": room, "friendly_name": "req-R00042", "status": "in-progress"}],
                "next_page_uri": None,
            },
        ),
        Scripted(
            200,
            {
                "participants": [
                    {"call_sid": "CA" + "1" * 32, "conference_sid": room},
                    {"call_sid": "CA" + "2" * 32, "conference_sid": room},
                ]
            },
        ),
    )
    assert adapter(stub).conference_participants("req-R00042") == ["CA" + "1" * 32, "CA" + "2" * 32]
    rooms, people = stub.requests
    assert (rooms.method, rooms.path) == ("GET", f"/2010-04-01/Accounts/{SID}/Conferences.json")
    assert rooms.form["FriendlyName"] == ["req-R00042"] and rooms.form["Status"] == ["in-progress"]
    assert (people.method, people.path) == ("GET", f"/2010-04-01/Accounts/{SID}/Conferences/{room}/Participants.json")


def test_no_in_progress_room_of_that_name_is_none(stub):
    assert adapter(stub).conference_participants("req-R00043") is None
    assert len(stub.requests) == 1, "no room: no participants to ask for"
