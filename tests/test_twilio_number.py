"""`flask --app wsgi twilio check|configure`, the real command, against the simulated Twilio.

The simulator's number starts out pointing at an old host; `check` says so and fails,
`configure` shows each change and makes it only once confirmed, and afterwards a call and a
text to the number reach the URLs the settings name (a scripted app stands in for the
service there and checks every request's signature).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from config.settings import ROOT
from tests.support.simulator_harness import Harness
from tests.support.stack import settings_env

FLASK = str(Path(sys.executable).parent / "flask")
OLD = "http://old-host.example:8000"


@pytest.fixture
def h():
    """The simulated Twilio whose service number still points at OLD (the roster's number)."""
    with Harness(
        voice_url=f"{OLD}/voice/incoming",
        voice_fallback_url=f"{OLD}/voice/fallback",
        voice_status_url=f"{OLD}/voice/status",
        sms_url=f"{OLD}/sms/incoming",
    ) as harness:
        yield harness


def twilio(settings, h, *args: str, answer: str | None = None) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    """The command as an operator runs it, where the service's settings are."""
    env = dict(
        os.environ,
        **settings_env(
            replace(
                settings,
                twilio_account_sid=h.ACCOUNT_SID,
                twilio_auth_token=h.AUTH_TOKEN,
                twilio_api_base_url=h.simulator.url,
            )
        ),
    )
    return subprocess.run(
        [FLASK, "--app", "wsgi", "twilio", *args],
        cwd=ROOT,
        env=env,
        input=answer,
        capture_output=True,
        text=True,
        timeout=60,
    )


def number(h):  # type: ignore[no-untyped-def]
    [found] = h.twilio.incoming_phone_numbers.list(phone_number=h.NUMBER)
    return found


def test_check_fails_configure_asks_then_points_every_webhook_at_the_service(settings, h):
    service = replace(settings, public_base_url=h.app.url, status_callback_base_url=h.app.url + "/status-host")

    checked = twilio(service, h, "check")
    assert checked.returncode == 1, checked.stderr
    assert "4 webhook(s) do not point at this service" in checked.stdout
    assert f"POST {OLD}/voice/incoming → POST {h.app.url}/voice/incoming" in checked.stdout
    assert f"POST {OLD}/voice/status → POST {h.app.url}/status-host/voice/status" in checked.stdout
    assert "twilio configure" in checked.stderr

    refused = twilio(service, h, "configure", answer="n\n")
    assert refused.returncode == 1 and "Aborted" in refused.stderr
    assert f"POST {OLD}/voice/fallback → POST {h.app.url}/voice/fallback" in refused.stdout
    assert number(h).voice_url == f"{OLD}/voice/incoming", "nothing changed without a yes"

    made = twilio(service, h, "configure", answer="y\n")
    assert made.returncode == 0, made.stderr
    assert "4 setting(s) changed" in made.stdout
    now = number(h)
    assert (now.voice_url, now.voice_fallback_url, now.status_callback, now.sms_url) == (
        f"{h.app.url}/voice/incoming",
        f"{h.app.url}/voice/fallback",
        f"{h.app.url}/status-host/voice/status",
        f"{h.app.url}/sms/incoming",
    )
    assert {now.voice_method, now.voice_fallback_method, now.status_callback_method, now.sms_method} == {"POST"}

    again = twilio(service, h, "check")
    assert again.returncode == 0 and "every webhook points at this service" in again.stdout
    assert "nothing to change" in twilio(service, h, "configure", "--yes").stdout

    # the number now brings calls and texts here, signed for these URLs
    h.app.on("/voice/incoming", "<Response><Hangup/></Response>")
    h.sim.place_call("+17185550101")
    h.app.wait_hits("/voice/incoming")
    h.app.wait_hits("/status-host/voice/status", where=lambda r: r["form"].get("CallStatus") == "completed")
    h.sim.send_sms("+17185550101", h.NUMBER, "Spanish")
    h.app.wait_hits("/sms/incoming")
    assert h.app.hits() and all(r["valid"] and r["method"] == "POST" for r in h.app.hits())


def test_configure_yes_changes_without_asking_and_removes_a_twiml_app(settings, h):
    number(h).update(voice_application_sid="AP" + "2" * 32)
    checked = twilio(settings, h, "check")
    assert checked.returncode == 1 and f"AP{'2' * 32} → (none)" in checked.stdout
    made = twilio(settings, h, "configure", "--yes")
    assert made.returncode == 0 and "5 setting(s) changed" in made.stdout, made.stdout + made.stderr
    now = number(h)
    assert now.voice_application_sid is None and now.voice_url == settings.url("/voice/incoming")
    assert now.status_callback == settings.url("/voice/status")  # no STATUS_CALLBACK_BASE_URL: the public one


def test_a_number_that_is_not_the_accounts_is_one_clear_error(settings, h, tmp_path):
    roster = Path(settings.roster_file).read_text().replace("+1 212-555-0100", "+1 212-555-0177")
    (tmp_path / "roster.yaml").write_text(roster)
    failed = twilio(replace(settings, roster_file=str(tmp_path / "roster.yaml")), h, "check")
    assert failed.returncode == 1
    assert f"+12125550177 is not a phone number of account {h.ACCOUNT_SID}" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_wrong_credentials_are_one_clear_error_and_change_nothing(settings, h):
    env = dict(
        os.environ,
        **settings_env(
            replace(
                settings,
                twilio_account_sid=h.ACCOUNT_SID,
                twilio_auth_token="not-the-token",
                twilio_api_base_url=h.simulator.url,
            )
        ),
    )
    failed = subprocess.run(
        [FLASK, "--app", "wsgi", "twilio", "configure", "--yes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1 and "Twilio refused: HTTP 401, error 20003" in failed.stderr
    assert "Traceback" not in failed.stderr and "not-the-token" not in failed.stderr + failed.stdout
    assert number(h).voice_url == f"{OLD}/voice/incoming"
