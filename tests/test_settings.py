"""Environment settings: defaults, conversions, and start-up failures that name the variable."""

from __future__ import annotations

import pytest

from config.errors import ConfigError
from config.settings import Settings


def test_defaults_are_production_paced():
    s = Settings.from_env({"SECRET_KEY": "shared-by-every-process"})
    assert s.liaison_window == 45.0 and s.liaison_ring_timeout == 20 and s.secret_key == "shared-by-every-process"
    assert s.secure_cookies
    assert s.pin_failures_per_hour == 10 and s.pin_lockout_seconds == 3600.0
    assert s.connected_alert_minutes == 60.0


def test_production_refuses_to_start_without_a_shared_secret_key():
    """Web and worker processes must hash unknown callers' numbers alike (dispatch.pseudonyms):
    outside LOCAL_MODE no process makes up a key of its own, and none starts without one."""
    from bootstrap import bootstrap
    from tests.support.fakes import FakeTelephony, RecordingJobs

    s = Settings.from_env({})
    assert s.secret_key == ""
    with pytest.raises(ConfigError) as err:
        bootstrap(s, jobs=RecordingJobs(), telephony=FakeTelephony())
    assert err.value.key == "SECRET_KEY" and "same value in every web and worker process" in str(err.value)
    local = Settings.from_env({"LOCAL_MODE": "1"})
    assert len(local.secret_key) == 64, "one process on a workstation gets a random key of its own"


def test_values_are_converted():
    s = Settings.from_env(
        {
            "LIAISON_WINDOW": "7.5",
            "LIAISON_RING_TIMEOUT": "3",
            "LOCAL_MODE": "yes",
            "REDIS_SENTINELS": "10.0.0.1:26379, sentinel-b:26380",
            "CONNECTED_ALERT_MINUTES": "90",
        }
    )
    assert s.connected_alert_minutes == 90.0
    assert s.liaison_window == 7.5 and s.liaison_ring_timeout == 3 and not s.secure_cookies
    assert s.redis_sentinels == (("10.0.0.1", 26379), ("sentinel-b", 26380))


@pytest.mark.parametrize(
    "env,var,words",
    [
        ({"LIAISON_RING_TIMEOUT": "soon"}, "LIAISON_RING_TIMEOUT", "invalid value"),
        ({"LIAISON_WINDOW": "0"}, "LIAISON_WINDOW", "greater than 0"),
        ({"LOCAL_MODE": "maybe"}, "LOCAL_MODE", "true or false"),
        ({"UNKNOWN_CALLERS": "ask"}, "UNKNOWN_CALLERS", "'pin' or 'refuse'"),
        ({"PUBLIC_BASE_URL": "dispatch.example.gov"}, "PUBLIC_BASE_URL", "http"),
        ({"STATUS_CALLBACK_BASE_URL": "status.example.gov"}, "STATUS_CALLBACK_BASE_URL", "http"),
        ({"TWILIO_API_BASE_URL": "api.example"}, "TWILIO_API_BASE_URL", "http"),
        ({"TWILIO_ACCOUNT_SID": "abc"}, "TWILIO_ACCOUNT_SID", "AC"),
        ({"REDIS_SENTINELS": "nohost"}, "REDIS_SENTINELS", "host:port"),
        ({"SPEECH_MIN_CONFIDENCE": "3"}, "SPEECH_MIN_CONFIDENCE", "between 0 and 1"),
        ({"DASHBOARD_MAX_STREAMS": "-1"}, "DASHBOARD_MAX_STREAMS", "0 or more"),
        ({"REQUEST_CONCURRENCY": "0"}, "REQUEST_CONCURRENCY", "at least 1"),
        ({"PIN_FAILURES_PER_HOUR": "0"}, "PIN_FAILURES_PER_HOUR", "at least 1"),
        ({"PIN_FAILURES_PER_HOUR": "ten"}, "PIN_FAILURES_PER_HOUR", "invalid value"),
        ({"PIN_LOCKOUT_SECONDS": "0"}, "PIN_LOCKOUT_SECONDS", "greater than 0"),
        ({"PIN_LOCKOUT_SECONDS": "-5"}, "PIN_LOCKOUT_SECONDS", "greater than 0"),
        ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES", "0 or more"),
        ({"SIGNIN_LOCK_SECONDS": "0"}, "SIGNIN_LOCK_SECONDS", "at least 1"),
        ({"SIGNIN_MAX_FAILURES": "0"}, "SIGNIN_MAX_FAILURES", "at least 1"),
        ({"AUDIT_RETENTION_SECONDS": "0"}, "AUDIT_RETENTION_SECONDS", "at least 1"),
        ({"CONNECTED_ALERT_MINUTES": "0"}, "CONNECTED_ALERT_MINUTES", "greater than 0"),
        ({"CONNECTED_ALERT_MINUTES": "-60"}, "CONNECTED_ALERT_MINUTES", "greater than 0"),
        ({"CONNECTED_ALERT_MINUTES": "nan"}, "CONNECTED_ALERT_MINUTES", "finite"),
        ({"CONNECTED_ALERT_MINUTES": "inf"}, "CONNECTED_ALERT_MINUTES", "finite"),
        ({"CONNECTED_ALERT_MINUTES": "an hour"}, "CONNECTED_ALERT_MINUTES", "invalid value"),
    ],
)
def test_bad_values_fail_at_start_naming_the_variable(env, var, words):
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)
    assert err.value.key == var and words in str(err.value)
    assert str(err.value).startswith("environment: " + var)


def test_callback_urls_use_the_public_base():
    s = Settings.from_env({"PUBLIC_BASE_URL": "https://dispatch.example.gov/"})
    assert s.url("/voice/status") == "https://dispatch.example.gov/voice/status"
