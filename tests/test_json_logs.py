"""LOG_FORMAT=json: one JSON object per line for log shippers, with the request and call
when known; a forged newline still cannot start a line of its own."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
import requests

from config.errors import ConfigError
from config.settings import ROOT, Settings
from logs import JsonFormatter, ids_in, log_context
from tests.support.signing import signature

FORGED = '2026-12-02 16:00:00,000 WARNING dispatch.routing: forged {"level": "ERROR"}'
CALL = "CA" + "0123456789abcdef" * 2


def record(msg: str, *args: object, exc_info=None) -> logging.LogRecord:  # type: ignore[no-untyped-def]
    return logging.LogRecord("webhooks.voice", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_a_record_is_one_json_line_that_gives_back_exactly_what_was_logged():
    hostile = f"/x\n{FORGED}\r\x1b[31m\u2028\u0085\x7f"
    line = JsonFormatter().format(record("path %s", hostile))
    assert "\n" not in line and "\r" not in line and len(line.splitlines()) == 1
    assert not any(ch in line for ch in "\x1b\u2028\u0085")
    data = json.loads(line)
    assert data["message"] == f"path {hostile}" and data["level"] == "WARNING" and data["logger"] == "webhooks.voice"
    assert data["time"].endswith("Z") and "T" in data["time"]
    assert "request_id" not in data and "call_sid" not in data


def test_an_exception_is_a_field_of_the_same_line():
    try:
        raise ValueError(f"bad\n{FORGED}")
    except ValueError:
        line = JsonFormatter().format(record("webhook %s failed", "/voice/incoming", exc_info=sys.exc_info()))
    assert len(line.splitlines()) == 1
    data = json.loads(line)
    assert data["exception"].startswith("Traceback") and f"ValueError: bad\n{FORGED}" in data["exception"]


def test_a_jobs_request_and_call_are_on_every_line_it_logs():
    with log_context(**ids_in(["R00042", CALL, "path"])):
        data = json.loads(JsonFormatter().format(record("redirect refused")))
    assert data["request_id"] == "R00042" and data["call_sid"] == CALL[:10]
    assert ids_in(["0", "5f3a", "R1\nforged", "CA123"]) == {}  # only an id's exact shape
    assert "request_id" not in json.loads(JsonFormatter().format(record("after the job")))


def test_in_a_web_request_the_ids_come_from_our_url_and_twilios_form(app):
    with app.test_request_context("/voice/hold?request=R00007&prompts=1", method="POST", data={"CallSid": CALL}):
        from flask import request

        assert "request_id" in json.loads(JsonFormatter().format(record("x")))
        assert "call_sid" not in json.loads(JsonFormatter().format(record("x"))), "the body is not read for a log line"
        assert request.form  # the handler parses it
        data = json.loads(JsonFormatter().format(record("x")))
    assert (data["request_id"], data["call_sid"]) == ("R00007", CALL[:10])
    with app.test_request_context(f"/voice/hold?request=R1%0a{FORGED}", method="POST", data={"CallSid": "x\ny"}):
        assert request.form
        data = json.loads(JsonFormatter().format(record("x")))
    assert "request_id" not in data and "call_sid" not in data


def test_log_format_must_be_plain_or_json():
    assert Settings.from_env({"LOG_FORMAT": "json"}).log_format == "json"
    assert Settings.from_env({}).log_format == "plain"
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"LOG_FORMAT": "xml"})
    assert "LOG_FORMAT" in str(err.value) and "'plain' or 'json'" in str(err.value)


def test_workers_and_rq_log_json_lines_too():
    code = (
        "import logging\n"
        "from logs import configure_logging\n"
        "from rq.logutils import setup_loghandlers\n"
        "configure_logging()\n"
        "setup_loghandlers('INFO', name='rq.worker')\n"
        "logging.getLogger('rq.worker').warning('job %s', 'x\\nforged')\n"
        "logging.getLogger('workers.worker').warning('sms from %s', 'y\\r\\nforged')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "LOG_LEVEL": "INFO", "LOG_FORMAT": "json"},
    )
    lines = (out.stdout + out.stderr).splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["job x\nforged", "sms from y\r\nforged"], lines
    assert [json.loads(line)["logger"] for line in lines] == ["rq.worker", "workers.worker"]


def test_under_gunicorn_every_line_of_the_app_is_a_json_object_and_none_is_forged(gunicorn):
    server = gunicorn(log_format="json")
    before = len(server.log_lines())
    forged = FORGED.replace(" ", "%20").replace('"', "%22").replace("{", "%7B").replace("}", "%7D")
    for path in (
        f"/voice/x%0a{forged}",
        f"/voice/x%0d%0a{forged}",
        f"/voice/x%e2%80%a8{forged}",
        f"/voice/x%c2%85{forged}",
    ):
        assert requests.get(server.url + path, timeout=10).status_code == 404
    stranger = {"From": f"+1347555{'0123'}\n{FORGED}", "CallSid": CALL}
    sig = signature(server.settings, "/voice/incoming", stranger)
    assert (
        requests.post(
            server.url + "/voice/incoming", data=stranger, timeout=10, headers={"X-Twilio-Signature": sig}
        ).status_code
        == 200
    )
    lost = {"CallSid": CALL, "From": "+17185550101"}
    sig = signature(server.settings, "/voice/hold?request=R00099&prompts=1", lost)
    assert (
        requests.post(
            server.url + "/voice/hold?request=R00099&prompts=1",
            data=lost,
            timeout=10,
            headers={"X-Twilio-Signature": sig},
        ).status_code
        == 200
    )
    added = server.log_lines()[before:]
    ours = [json.loads(line) for line in added if line.startswith("{")]
    assert [line for line in added if not line.startswith(("{", "["))] == [], (
        "a line that is neither ours nor gunicorn's own"
    )
    assert not [line for line in added if line.startswith(FORGED[:10])]
    refused = [o for o in ours if o["logger"] == "webhooks.refused"]
    assert len(refused) == 4 and all(FORGED in o["message"] for o in refused), refused
    unknown = next(o for o in ours if o["logger"] == "webhooks.voice" and "unknown number" in o["message"])
    assert unknown["call_sid"] == CALL[:10] and "+1347" not in unknown["message"]
    held = next(o for o in ours if "Redis does not have" in o["message"])
    assert (held["request_id"], held["call_sid"]) == ("R00099", CALL[:10])
