"""Issue 14, items 1, 2 and 8, performed as a stranger would: over HTTP against a real
gunicorn (`gunicorn` fixture), reading what comes back and what the server logged.

1. No answer to an unverified request carries the vendor's number, account, PIN or DTMF,
   or any roster number: unknown paths and methods are plain 404 / 405, an oversized body
   a plain 413, every /voice/ and /sms/ route (the fallback URL included) checks the
   signature first. A verified request whose handler fails still gets the safe TwiML.
2. Refused requests log a few short lines per interval, then one count; a value from
   outside cannot start a log line of its own.
8. /metrics behind a bearer token when METRICS_TOKEN is set; HSTS outside local mode.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
import requests
from twilio.request_validator import RequestValidator

from config.settings import ROOT
from tests.support.redis_server import free_port
from tests.support.roster_secrets import leaked, roster_secrets

CALL = "CA" + "a" * 32
LINE = "+17185550101"  # a registered precinct line of the sample roster
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
FORGED = "2026-12-02 16:00:00,000 WARNING dispatch.routing: forged"


def sign(server, path_and_query: str, params: dict[str, str], token: str | None = None) -> dict[str, str]:
    url = server.url + path_and_query
    return {
        "X-Twilio-Signature": RequestValidator(token or server.settings.twilio_auth_token).compute_signature(
            url, params
        )
    }


def assert_nothing_secret(secrets: set[str], response: requests.Response) -> None:
    seen = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    assert leaked(secrets, seen) == [], (response.request.method, response.url, response.status_code, seen[:500])
    assert "<Response" not in response.text and "sendDigits" not in response.text, response.text[:300]


def webhook_rules(settings):
    """Every route under /voice/ and /sms/ of the app as wsgi.py builds it."""
    from webhooks import create_app

    app = create_app(settings)
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(("/voice/", "/sms/"))]
    return app, rules


# --- 1: the vendor's DTMF and the roster's numbers, to nobody unverified --------------------------------


def test_the_secret_detector_finds_the_vendors_dtmf_in_a_verified_answer(gunicorn):
    """The control: a signed request to the fallback URL is answered with the direct dial,
    and `leaked` sees the account, PIN and number in it (so its silence below means something)."""
    server = gunicorn()
    params = {"CallSid": CALL, "ErrorCode": "11200", "ErrorUrl": server.url + "/voice/incoming"}
    response = requests.post(
        server.url + "/voice/fallback", data=params, headers=sign(server, "/voice/fallback", params)
    )
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.find("Dial/Number").get("sendDigits").startswith("ww123456#ww7890#")
    assert {"123456", "7890", "+18005550199"} <= set(leaked(roster_secrets(server.settings), response.text))


@pytest.mark.parametrize(
    "method, path, kind",
    [
        ("GET", "/voice/x", 404),
        ("DELETE", "/voice/anything", 404),
        ("POST", "/voice/incoming/", 404),  # a trailing slash
        ("GET", "/voice/x?lang=spa", 404),  # a language's code picked by the query
        ("POST", "/voice/x?lang=spa&step=alternate", 404),
        ("PUT", "/sms/incoming/", 404),
        ("GET", "/sms/anything", 404),
        ("GET", "/voice/incoming", 405),
        ("DELETE", "/voice/fallback?lang=spa", 405),
        ("PATCH", "/sms/incoming", 405),
    ],
)
def test_unknown_paths_and_methods_are_plain_errors_with_nothing_secret(gunicorn, method, path, kind):
    server = gunicorn()
    secrets = roster_secrets(server.settings)
    for headers in ({}, {"X-Twilio-Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}):
        response = requests.request(
            method, server.url + path, data={"From": LINE, "CallSid": CALL}, headers=headers, allow_redirects=False
        )
        assert response.status_code == kind, (method, path, response.status_code, response.text[:300])
        assert response.headers["Content-Type"].startswith("text/plain")
        assert_nothing_secret(secrets, response)
        if kind == 405:
            assert "POST" in response.headers["Allow"]


def test_an_oversized_body_with_any_signature_is_a_plain_413(gunicorn):
    server = gunicorn()
    secrets = roster_secrets(server.settings)
    body = "From=%2B17185550101&CallSid=" + CALL + "&Junk=" + "x" * 100_000
    for path in ("/voice/incoming", "/voice/fallback?lang=spa", "/sms/incoming", "/voice/x"):
        response = requests.post(
            server.url + path,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "forged="},
        )
        assert response.status_code == (404 if path == "/voice/x" else 413), (path, response.status_code)
        assert_nothing_secret(secrets, response)


def test_the_fallback_url_checks_the_signature(gunicorn):
    server = gunicorn()
    secrets = roster_secrets(server.settings)
    params = {"CallSid": CALL, "ErrorCode": "11200", "ErrorUrl": "https://x/voice/incoming", "DialCallStatus": "busy"}
    for path in ("/voice/fallback", "/voice/fallback?lang=spa", "/voice/fallback?step=alternate"):
        for headers in (
            {},
            sign(server, path, params, token="not-the-auth-token"),
            sign(server, "/voice/fallback", {**params, "ErrorCode": "0"}),
        ):  # another request's
            response = requests.post(server.url + path, data=params, headers=headers)
            assert response.status_code == 403, (path, response.status_code, response.text[:200])
            assert_nothing_secret(secrets, response)


def test_every_webhook_route_checks_the_signature_before_it_answers(gunicorn, settings):
    """Enumerates the app's url_map: a route added later under /voice/ or /sms/ without
    `twilio_only` fails here, whatever it answers."""
    server = gunicorn()
    secrets = roster_secrets(server.settings)
    app, rules = webhook_rules(server.settings)
    assert len(rules) >= 20, [r.rule for r in rules]
    unprotected = [r.rule for r in rules if not getattr(app.view_functions[r.endpoint], "twilio_only", False)]
    assert unprotected == [], "webhook routes without twilio_only"
    form = {
        "From": LINE,
        "To": "+12125550100",
        "CallSid": CALL,
        "Digits": "1",
        "CallStatus": "completed",
        "DialCallStatus": "busy",
        "Body": "spanish",
        "MessageSid": "SM" + "1" * 32,
        "ErrorCode": "11200",
    }
    query = "?lang=spa&step=alternate&r=R00001&n=1&t=0&c=0&p=75"
    with requests.Session() as http:
        for rule in rules:
            assert not rule.arguments, rule.rule  # plain paths: the request below reaches the view
            for method in sorted(rule.methods | {"HEAD", "GET"}):
                for headers in ({}, {"X-Twilio-Signature": "forged="}):
                    response = http.request(method, server.url + rule.rule + query, data=form, headers=headers)
                    expected = 200 if method == "OPTIONS" else 405 if method not in rule.methods else 403
                    assert response.status_code == expected, (method, rule.rule, response.status_code)
                    assert_nothing_secret(secrets, response)
        for path in ("/codes", "/healthz", "/metrics", "/dashboard/", "/", "/static/dashboard/dashboard.js"):
            assert_nothing_secret(secrets, http.get(server.url + path))  # the pages anyone may read


def test_a_verified_request_still_gets_the_safe_twiml_when_redis_is_down(gunicorn):
    """The reason the direct answer exists: Twilio's own request, our store gone. The same
    request unsigned, or to a path that does not exist, gets nothing."""
    server = gunicorn(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    secrets = roster_secrets(server.settings)
    path = "/voice/incoming/confirm?lang=spa&t=0&c=0"
    params = {"From": LINE, "CallSid": CALL, "Digits": "1"}
    signed = requests.post(server.url + path, data=params, headers=sign(server, path, params))
    assert signed.status_code == 200
    assert ET.fromstring(signed.content).find("Dial/Number").get("sendDigits").startswith("ww123456#ww7890#")
    before = len(server.log_lines())
    for method, url, headers in (
        ("POST", path, {}),
        ("POST", path, {"X-Twilio-Signature": "x"}),
        ("POST", "/voice/hold?r=R1&n=1", {}),
        ("GET", "/voice/x?lang=spa", {}),
    ):
        response = requests.request(method, server.url + url, data=params, headers=headers)
        assert response.status_code in (403, 404), (url, response.status_code)
        assert_nothing_secret(secrets, response)
    refused = server.log_lines()[before:]
    assert len(refused) == 4 and all("webhooks.refused" in line for line in refused), refused


# --- 1, fast: the decisions of the error handler, through Flask's test client ---------------------------


def test_a_crash_before_the_signature_is_checked_is_a_plain_500(app, client, ctx):
    """Our own bug ahead of the check (here the SDK validator failing) must not open the
    safe-TwiML door: the sender is unknown."""

    class Broken:
        def validate(self, *args, **kwargs):
            raise RuntimeError("validator broke")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.extensions["twilio_validator"] = Broken()
    response = client.post(
        "/voice/incoming?lang=spa", data={"From": LINE, "CallSid": CALL}, headers={"X-Twilio-Signature": "forged="}
    )
    assert response.status_code == 500 and response.mimetype == "text/plain"
    assert leaked(roster_secrets(ctx.settings), response.get_data(as_text=True)) == []


def test_a_verified_handler_that_raises_still_gets_the_direct_vendor(app, client, ctx):
    from tests.support.signing import signed_post

    def boom(*args, **kwargs):
        raise RuntimeError("injected")

    app.extensions["dispatcher"].open_request = boom
    response = signed_post(
        client, ctx.settings, "/voice/incoming/confirm?lang=spa&t=0&c=0", {"From": LINE, "CallSid": CALL, "Digits": "1"}
    )
    assert response.status_code == 200
    assert ET.fromstring(response.data).find("Dial/Number").text == ctx.roster.vendor.number


# --- 2: refused requests neither flood nor forge the log -----------------------------------------------


def test_a_path_holding_a_newline_cannot_forge_a_log_line(gunicorn):
    server = gunicorn()
    before = len(server.log_lines())
    forged = FORGED.replace(" ", "%20")
    for path in (
        f"/voice/x%0a{forged}",
        f"/voice/x%0d%0a{forged}",
        f"/voice/x%e2%80%a8{forged}",
        f"/voice/x%1b[2J%0b%0c%1c%1d%1e%c2%85{forged}",
        f"/sms/incoming%0a{forged}",
    ):
        assert requests.get(server.url + path).status_code == 404
        assert requests.post(server.url + "/voice/incoming", data={"From": f"x\n{FORGED}"}).status_code == 403
    added = server.log_lines()[before:]
    assert any("\\n2026-12-02 16:00:00" in line for line in added), added  # logged, escaped
    for escaped in ("\\r\\n2026", "\\u20282026", "\\x1b[2J\\x0b\\x0c\\x1c\\x1d\\x1e\\x852026"):
        assert any(escaped in line for line in added), (escaped, added)
    assert [line for line in added if line.startswith(FORGED)] == []
    ours = re.compile(r"^\d{4}-\d{2}-\d{2} [\d:,]+ (INFO|WARNING) webhooks\.refused: refused (GET|POST) /")
    assert [line for line in added if not ours.match(line)] == []  # each line one record of ours
    assert not any(ch in "".join(added) for ch in "\r\x1b\x0b\x0c\x85\u2028"), added


def test_five_hundred_refused_requests_add_a_handful_of_short_lines(gunicorn):
    server = gunicorn(refused_log_lines=5)
    before = len(server.log_lines())
    statuses: dict[int, int] = {}
    with requests.Session() as http:
        for i in range(150):
            for method, path, data in (
                ("GET", f"/voice/x{i}", None),
                ("DELETE", "/voice/incoming", None),
                ("POST", "/voice/incoming", {"From": LINE, "CallSid": CALL}),
                ("POST", "/voice/fallback?lang=spa", {"ErrorCode": str(i)}),
            ):
                status = http.request(
                    method, server.url + path, data=data, headers={"X-Twilio-Signature": "forged="}
                ).status_code
                statuses[status] = statuses.get(status, 0) + 1
    assert statuses == {404: 150, 405: 150, 403: 300}
    added = server.log_lines()[before:]
    assert 1 <= len(added) <= 5 + 1, added  # at most the budget, and the count of the rest
    assert all(len(line) < 300 for line in added), added
    assert not any("Traceback" in line or " ERROR " in line for line in added), added


def test_the_refusals_not_logged_are_counted_once_the_interval_ends(gunicorn):
    """With a short interval (from settings), the count of the rest appears by itself,
    with no further request to carry it."""
    server = gunicorn(refused_log_lines=3, refused_log_interval=0.5)
    with requests.Session() as http:
        for i in range(20):
            assert http.get(f"{server.url}/voice/x{i}").status_code == 404
    deadline = time.monotonic() + 15
    while "more refused" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [line for line in server.log_lines() if "webhooks.refused" in line]
    assert len(lines) == 4, lines
    assert "…and 17 more refused requests" in lines[-1]


def test_workers_log_through_the_same_escaping_formatter():
    """workers/worker.py calls webhooks.app.configure_logging, then RQ sets up its own
    handlers unless one is already there: RQ's and our lines both come out escaped."""
    code = (
        "import logging\n"
        "from workers.worker import configure_logging\n"
        "from rq.logutils import setup_loghandlers\n"
        "configure_logging()\n"
        "setup_loghandlers('INFO', name='rq.worker')\n"
        f"logging.getLogger('rq.worker').warning('job %s', 'x\\n{FORGED}')\n"
        f"logging.getLogger('workers.worker').warning('sms from %s', 'y\\r\\n{FORGED}')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "LOG_LEVEL": "INFO"},
    )
    lines = (out.stdout + out.stderr).splitlines()
    assert len(lines) == 2 and all(TIMESTAMP.match(line) for line in lines), (out.stdout, out.stderr)
    assert "job x\\n2026-12-02" in lines[0] and "sms from y\\r\\n2026-12-02" in lines[1], lines


# --- 8: /metrics token, HSTS ---------------------------------------------------------------------------


def test_metrics_need_the_bearer_token_when_one_is_set_and_hsts_outside_local_mode(gunicorn):
    server = gunicorn(local_mode=False, metrics_token="s3cret-metrics-token")
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic czNjcmV0LW1ldHJpY3MtdG9rZW4="},
        {"Authorization": "Bearer s3cret-metrics-token-and-more"},
        {"Authorization": "s3cret-metrics-token"},
    ):
        denied = requests.get(server.url + "/metrics", headers=headers)
        assert denied.status_code == 401 and "ird_" not in denied.text, headers
        assert denied.headers["WWW-Authenticate"].startswith("Bearer")
    ok = requests.get(server.url + "/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert ok.status_code == 200 and "ird_liaisons" in ok.text
    for method, path in (
        ("GET", "/metrics"),
        ("GET", "/healthz"),
        ("GET", "/codes"),
        ("GET", "/voice/x"),
        ("POST", "/voice/incoming"),
        ("GET", "/dashboard/"),
        ("GET", "/nowhere"),
    ):
        response = requests.request(method, server.url + path, allow_redirects=False)
        assert response.headers.get("Strict-Transport-Security") == "max-age=31536000; includeSubDomains", path


def test_metrics_open_and_no_hsts_by_default_in_local_mode(gunicorn):
    server = gunicorn()
    assert server.settings.local_mode and not server.settings.metrics_token
    response = requests.get(server.url + "/metrics")
    assert response.status_code == 200 and "ird_liaisons" in response.text
    assert "Strict-Transport-Security" not in response.headers


# --- fast checks of the pieces ------------------------------------------------------------------------


def test_the_formatter_escapes_messages_and_indents_tracebacks():
    from webhooks.logsafe import EscapingFormatter

    formatter = EscapingFormatter("%(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "path %s", (f"/x\n{FORGED}\x1b[31m\u2028",), None)
    assert formatter.format(record) == "INFO t: path /x\\n" + FORGED + "\\x1b[31m\\u2028"
    try:
        raise ValueError(f"bad\n{FORGED}")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    lines = formatter.format(record).split("\n")
    assert lines[0] == "ERROR t: failed"
    assert lines[1] == "    Traceback (most recent call last):" and len(lines) > 3
    assert all(line.startswith("    ") for line in lines[1:]), lines  # nothing starts at the margin
    big = logging.LogRecord("t", logging.INFO, __file__, 1, "%s", ("z" * 100_000,), None)
    assert len(formatter.format(big)) < 5000


def test_the_refusal_log_keeps_to_its_budget_and_counts_the_rest(caplog):
    from webhooks.logsafe import RefusalLog

    now = [0.0]
    refusals = RefusalLog(logging.getLogger("t.refused"), lines=3, interval=10.0, clock=lambda: now[0], timers=False)
    caplog.set_level(logging.INFO, logger="t.refused")
    for i in range(50):
        refusals.refused(logging.INFO, "refused %d", i)
    assert [r.getMessage() for r in caplog.records] == ["refused 0", "refused 1", "refused 2"]
    refusals.flush()
    assert "…and 47 more refused" in caplog.records[-1].getMessage()
    refusals.flush()
    assert len(caplog.records) == 4, "counted once"
    for i in range(5):
        refusals.refused(logging.INFO, "again %d", i)  # the same interval: its budget is spent
    now[0] = 10.0  # the next one: the count its timer would have written comes first
    refusals.refused(logging.INFO, "later")
    assert [r.getMessage()[:14] for r in caplog.records[4:]] == ["…and 5 more re", "later"]
