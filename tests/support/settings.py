"""The settings tests run with: every duration scaled down (durations come from configuration,
never from sleeps at human pace), and the accounts the tests sign with."""

from __future__ import annotations

from dataclasses import replace

from config.settings import Settings

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "1" * 32


def fast_settings(**overrides: object) -> Settings:
    """Durations scaled down so a whole call plays out in about a second."""
    base: dict[str, object] = dict(
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        public_base_url="http://127.0.0.1:1",
        secret_key="test-secret",
        local_mode=True,
        liaison_ring_timeout=2,
        whisper_timeout=1,
        liaison_window=6.0,
        wrapup_seconds=0.5,
        vendor_ring_timeout=2,
        callback_ring_timeout=2,
        hold_pause=1,
        sweep_interval=0.25,
        queued_stuck_after=1.0,
        grace_seconds=0.5,
        ivr_gather_timeout=1,
        twilio_retries=3,
        twilio_retry_backoff=0.05,
        twilio_http_timeout=2.0,
        redirect_retry_after=1,
        booking_travel_minutes=0.05,  # 3 s of travel either side of a booking
    )
    base.update(overrides)
    settings = Settings(**base)  # type: ignore[arg-type]
    settings.validate()
    return settings


def e2e_settings(redis_url: str, **overrides: object) -> Settings:
    """Fast but not frantic: hold prompts loop every ~0.5 s at the simulator's time scale; a
    dropped officer has a few times what a rejoin takes on a loaded machine to come back; a booking's
    travel time (6 s) outlasts routing a call or two on a loaded machine."""
    overrides = {"hold_pause": 10, "reconnect_grace": 8.0, "booking_travel_minutes": 0.1, **overrides}
    return replace(fast_settings(**overrides), redis_url=redis_url)
