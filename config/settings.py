"""Settings from the environment, validated once at start.

Every duration the service waits on (ring timeouts, the liaison window, wrap-up,
hold prompts, the sweeper) is a setting, so tests run in seconds while a real
deployment waits at human pace. A bad value stops the process at start with the
variable's name and the reason, instead of surfacing mid-call.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from config.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("config.settings")


def _env_error(var: str, reason: str) -> ConfigError:
    return ConfigError(path="environment", line=None, key=var, reason=reason)


@dataclass(frozen=True)
class Settings:
    """Process-wide configuration; build it with `Settings.from_env()`."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_master: str = "mymaster"
    roster_file: str = str(ROOT / "config" / "roster.sample.yaml")
    languages_file: str = ""
    public_base_url: str = "http://127.0.0.1:8000"
    status_callback_base_url: str = ""  # where Twilio sends status callbacks ("": the public base URL)
    secret_key: str = ""
    local_mode: bool = False

    twilio_account_sid: str = "AC" + "0" * 32
    twilio_auth_token: str = ""
    twilio_api_base_url: str = ""
    twilio_region: str = ""
    twilio_edge: str = ""
    twilio_http_timeout: float = 5.0
    twilio_retries: int = 3
    twilio_retry_backoff: float = 0.25

    ivr_gather_timeout: int = 6
    ivr_max_tries: int = 3
    unknown_callers: str = "pin"  # "pin": ask precinct + unit PIN; "refuse": decline politely
    speech_min_confidence: float = 0.4
    confirm_keypad: bool = True  # read a keyed language code back for confirmation (speech always is)
    liaison_ring_timeout: int = 20
    whisper_timeout: int = 6
    liaison_window: float = 45.0
    wrapup_seconds: float = 30.0
    parallel_offers: int = 1  # liaisons rung at once for one request (the first to press 1 takes it)
    vendor_hedge_after: float = 0.0  # dial the vendor this long into the wait while liaisons still ring (0: off)
    vendor_ring_timeout: int = 30
    callback_ring_timeout: int = 30
    hold_pause: int = 8
    sweep_interval: float = 2.0
    queued_stuck_after: float = 5.0
    route_drainers: int = 2  # drainer jobs routing the inbox at once (route_inbox.py)
    route_concurrency: int = 8  # routes each drainer runs at once (threads)
    route_lease_seconds: float = 10.0  # a dead drainer's slot is free again after this
    worker_nice: int = 10  # workers' CPU priority below the web's (0: the same)
    grace_seconds: float = 5.0
    reconcile_seconds: float = 60.0  # how often the reconciler asks the network about long calls
    redirect_retry_after: int = 5  # a refused redirect of the officer's call: first retry after (s)
    reconnect_grace: float = 120.0  # a dropped officer may rejoin their interpreter within this (rejoin.py)
    retention_seconds: int = 30 * 24 * 3600
    events_maxlen: int = 10000
    caller_rate_limit: int = 10  # webhook requests per caller number ...
    caller_rate_window: int = 60  # ... per this many seconds
    pin_failures_per_hour: int = 10  # wrong unit PINs per precinct (all callers together) per hour ...
    pin_lockout_seconds: float = 3600.0  # ... after which that precinct's PIN entry is refused this long
    session_idle_minutes: int = 30
    signin_max_failures: int = 5  # wrong passwords for one username from one address ...
    signin_ip_max_failures: int = 20  # ... or for any usernames from one address ...
    signin_lock_seconds: int = 15 * 60  # ... within this long lock them out for this long
    trusted_proxies: int = 0  # proxies in front whose X-Forwarded-For is believed (0: none)
    audit_retention_seconds: int = 365 * 24 * 3600
    wait_alert_seconds: float = 30.0
    connected_alert_minutes: float = 60.0  # the dashboard marks a call connected longer than this
    request_concurrency: int = 8  # requests (not event streams) one web process runs at once
    dashboard_max_streams: int = 24  # dashboard event streams one process holds at once (0: none, pages poll)
    metrics_token: str = field(default="", repr=False)  # "": /metrics open; else Bearer token required
    refused_log_lines: int = 10  # refused requests logged one by one per process ...
    refused_log_interval: float = 60.0  # ... per this many seconds; the rest as one count
    log_format: str = "plain"  # "plain": one escaped line a record; "json": one JSON object a line
    # Liaisons' time (issue 18): bookings, missed offers, call-outs
    missed_offers_to_pause: int = 2  # consecutive unanswered offers, then the liaison is paused
    booking_travel_minutes: float = 30.0  # a booked liaison is not offered calls this long before and after
    liaison_texts_per_hour: int = 6  # service texts to one liaison (missed offers, call-outs) per hour
    callout_every_seconds: int = 600  # one call-out per language per this long
    coverage_retention_days: int = 5 * 365  # anonymous coverage figures are kept this long (years)
    vendor_rate_per_minute: float = 0.0  # the vendor's price per minute for the coverage report (0: not shown)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Each field is read from its upper-case name (REDIS_URL, LIAISON_WINDOW, ...)."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            var = f.name.upper()
            if var not in env or env[var] == "":
                continue
            raw = env[var]
            values[f.name] = _convert(var, raw, f.type, f.default)
        settings = cls(**values)  # type: ignore[arg-type]  # each value _convert-ed to its field's type
        settings.validate()
        if not settings.secret_key and settings.local_mode:
            # One process on a workstation (`make run` sets one key for all its processes).
            log.warning(
                "SECRET_KEY is not set: this process uses a random key of its own (LOCAL_MODE); "
                "processes sharing a Redis must share one SECRET_KEY"
            )
            settings = replace(settings, secret_key=secrets.token_hex(32))
        return settings

    def require_secret_key(self) -> None:
        """Refuse to start without SECRET_KEY outside LOCAL_MODE.

        Every process sharing a Redis (web, callbacks, dashboard, workers) must hold the same
        key: it signs sessions and keys the hash that stands for an unknown caller's number
        in rate limits (dispatch.pseudonyms). A key made up per process would silently give
        each process its own hashes, so each would count a flooding phone on its own.
        """
        if not self.secret_key:
            raise _env_error(
                "SECRET_KEY",
                "must be set outside LOCAL_MODE, to the same value in every web and "
                "worker process (e.g. python -c 'import secrets; "
                "print(secrets.token_hex(32))')",
            )

    def validate(self) -> None:
        """Cross-field checks an operator would otherwise discover on a live call."""
        if self.unknown_callers not in ("pin", "refuse"):
            raise _env_error("UNKNOWN_CALLERS", "must be 'pin' or 'refuse'")
        if self.log_format.strip().lower() not in ("plain", "json"):
            raise _env_error("LOG_FORMAT", "must be 'plain' or 'json'")
        for name, required in (
            ("public_base_url", True),
            ("status_callback_base_url", False),
            ("twilio_api_base_url", False),
        ):
            value = getattr(self, name)
            if (value or required) and not value.startswith(("http://", "https://")):
                raise _env_error(name.upper(), "must start with http:// or https://")
        if not self.twilio_account_sid.startswith("AC") or len(self.twilio_account_sid) != 34:
            raise _env_error("TWILIO_ACCOUNT_SID", "must be 'AC' followed by 32 characters")
        for name in (
            "liaison_ring_timeout",
            "vendor_ring_timeout",
            "callback_ring_timeout",
            "whisper_timeout",
            "ivr_gather_timeout",
            "ivr_max_tries",
            "parallel_offers",
            "retention_seconds",
            "route_drainers",
            "route_concurrency",
            "request_concurrency",
            "pin_failures_per_hour",
            "redirect_retry_after",
            "signin_max_failures",
            "signin_ip_max_failures",
            "signin_lock_seconds",
            "audit_retention_seconds",
            "missed_offers_to_pause",
            "liaison_texts_per_hour",
            "callout_every_seconds",
            "coverage_retention_days",
        ):
            if getattr(self, name) < 1:
                raise _env_error(name.upper(), "must be at least 1")
        for name in (
            "dashboard_max_streams",
            "trusted_proxies",
            "refused_log_lines",
            "booking_travel_minutes",
            "vendor_hedge_after",
        ):
            if getattr(self, name) < 0:
                raise _env_error(name.upper(), "must be 0 or more")
        for name in (
            "liaison_window",
            "sweep_interval",
            "grace_seconds",
            "queued_stuck_after",
            "route_lease_seconds",
            "refused_log_interval",
            "pin_lockout_seconds",
            "reconcile_seconds",
            "reconnect_grace",
        ):
            if getattr(self, name) <= 0:
                raise _env_error(name.upper(), "must be greater than 0")
        if not 0 < self.connected_alert_minutes < math.inf:  # NaN fails too; the page gets it as JSON
            raise _env_error("CONNECTED_ALERT_MINUTES", "must be a finite number of minutes greater than 0")
        if self.vendor_rate_per_minute < 0:
            raise _env_error("VENDOR_RATE_PER_MINUTE", "must be 0 or more")
        if not 0 <= self.speech_min_confidence <= 1:
            raise _env_error("SPEECH_MIN_CONFIDENCE", "must be between 0 and 1")

    @property
    def secure_cookies(self) -> bool:
        return not self.local_mode

    def url(self, path: str) -> str:
        """Absolute URL Twilio should call for `path` (used for callbacks and signatures)."""
        return self.public_base_url.rstrip("/") + path


def _convert(var: str, raw: str, typ: object, default: object) -> object:
    """Turn one environment string into the field's type, or fail naming the variable."""
    kind = type(default)
    try:
        if kind is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is tuple:  # REDIS_SENTINELS=host:port,host:port
            pairs = []
            for item in raw.split(","):
                host, _, port = item.strip().rpartition(":")
                if not host:
                    raise ValueError(f"'{item}' is not host:port")
                pairs.append((host, int(port)))
            return tuple(pairs)
        return raw
    except ValueError as exc:
        raise _env_error(var, f"invalid value {raw!r}: {exc}") from None


__all__ = ["Settings", "ROOT"]
