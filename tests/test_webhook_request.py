"""The quick form reader (webhooks/webhook_request.py) reads what werkzeug would have read:
the same fields in the same order, the same size limit, and its path for anything unusual."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import werkzeug.formparser  # noqa: F401  (registers the codec error handler parse_qsl uses below)
from flask import Flask, request
from hypothesis import given
from hypothesis import strategies as st

from tests.support.signing import signature
from webhooks.webhook_request import WebhookRequest, parse_urlencoded


def _werkzeug(body: str) -> list[tuple[str, str]]:
    return parse_qsl(body, keep_blank_values=True, errors="werkzeug.url_quote")


@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=20)), max_size=8))
def test_encoded_fields_read_back_as_werkzeug_reads_them(fields):
    body = urlencode(fields)
    assert parse_urlencoded(body) == _werkzeug(body) == fields


@given(st.text(alphabet="ab=&%+2B0Fzé ", max_size=40))
def test_any_ascii_body_reads_as_werkzeug_reads_it(raw):
    body = raw.encode("utf-8", "ignore").decode("ascii", "ignore")
    assert parse_urlencoded(body) == _werkzeug(body)


def test_bad_escapes_and_blank_values_are_kept():
    body = "From=%2B15550100&Empty=&Bad=%ZZ%E9x&Plus=a+b&&=lonely&Eq=a=b"
    assert parse_urlencoded(body) == _werkzeug(body)
    assert dict(parse_urlencoded(body))["Plus"] == "a b"


def _echo_app() -> Flask:
    app = Flask(__name__)
    app.request_class = WebhookRequest
    app.config["MAX_CONTENT_LENGTH"] = 1024

    @app.post("/echo")
    def echo():
        return {"form": list(request.form.items(multi=True)), "files": sorted(request.files)}

    return app


def test_a_form_post_reaches_the_view_with_every_field():
    client = _echo_app().test_client()
    fields = [("From", "+15550100"), ("SpeechResult", "Haitian Creole"), ("From", "again")]
    response = client.post("/echo", data=urlencode(fields), content_type="application/x-www-form-urlencoded")
    assert sorted(map(tuple, response.json["form"])) == sorted(fields)


def test_raw_utf8_in_the_body_is_read_as_werkzeug_reads_it():
    client = _echo_app().test_client()
    response = client.post(
        "/echo", data="SpeechResult=créole".encode(), content_type="application/x-www-form-urlencoded"
    )
    assert response.json["form"] == [["SpeechResult", "créole"]]


def test_a_body_over_the_limit_is_refused_with_413():
    client = _echo_app().test_client()
    response = client.post("/echo", data="x=" + "a" * 2000, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_multipart_bodies_still_take_werkzeug_path():
    client = _echo_app().test_client()
    response = client.post("/echo", data={"From": "+15550100"}, content_type="multipart/form-data")
    assert response.json["form"] == [["From", "+15550100"]]


def test_signed_webhook_with_escaped_fields_is_accepted_and_a_changed_one_is_not(client, settings, ctx):
    line = ctx.roster.precincts[0].lines[0]
    params = {
        "From": line,
        "CallSid": "CA" + "e" * 32,
        "AccountSid": settings.twilio_account_sid,
        "SpeechResult": "Haïtien & créole = 100%",
    }
    sig = signature(settings, "/voice/incoming", params)
    ok = client.post(
        "/voice/incoming",
        data=urlencode(params),
        headers={"X-Twilio-Signature": sig},
        content_type="application/x-www-form-urlencoded",
    )
    assert ok.status_code == 200 and b"<Gather" in ok.data
    tampered = urlencode({**params, "SpeechResult": "Haïtien & créole = 99%"})
    refused = client.post(
        "/voice/incoming",
        data=tampered,
        headers={"X-Twilio-Signature": sig},
        content_type="application/x-www-form-urlencoded",
    )
    assert refused.status_code == 403
