"""Wiring in one place (cosmicpython's bootstrap): real or fake adapters, one Context.

The web app, the workers, the sweeper and the tests all build their collaborators
here, so swapping the phone network or the job runner is one argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import redis

from config.roster import Roster, load_roster
from config.settings import Settings
from dispatch.audit import AuditLog
from dispatch.jobs import Jobs
from dispatch.languages import Catalog, default_catalog, load_catalog
from dispatch.liaisons import LiaisonBoard
from dispatch.pin_guard import PinGuard
from dispatch.pseudonyms import Pseudonyms
from dispatch.redis_conn import connect
from dispatch.requests import RequestStore
from dispatch.telephony import Telephony
from dispatch.telephony.twilio_adapter import TwilioTelephony
from dispatch.urls import Urls


@dataclass
class Context:
    settings: Settings
    redis: redis.Redis
    roster: Roster
    catalog: Catalog
    telephony: Telephony
    jobs: Jobs
    requests: RequestStore = field(init=False)
    liaisons: LiaisonBoard = field(init=False)
    urls: Urls = field(init=False)
    pseudonyms: Pseudonyms = field(init=False)
    pins: PinGuard = field(init=False)

    audit: AuditLog = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.requests = RequestStore(self.redis, s.retention_seconds, s.events_maxlen)
        self.liaisons = LiaisonBoard(self.redis, s.events_maxlen)
        self.urls = Urls(s.public_base_url, s.status_callback_base_url)
        self.pseudonyms = Pseudonyms(s.secret_key)
        self.pins = PinGuard(self.redis, self.roster, s.pin_failures_per_hour, s.pin_lockout_seconds, s.events_maxlen)
        self.audit = AuditLog(self.redis, s.audit_retention_seconds)


def load_catalog_for(settings: Settings) -> Catalog:
    return load_catalog(settings.languages_file) if settings.languages_file else default_catalog()


def load_roster_for(settings: Settings, catalog: Catalog) -> Roster:
    """Read and validate the roster; raises ConfigError naming file, line and reason."""

    def known(code: str) -> str | None:
        language = catalog.get(code)
        if language is None:
            found = catalog.resolve(code)
            language = found.language if found.kind == "match" and found.via != "fuzzy" else None
        return language.id if language else None

    return load_roster(settings.roster_file, known)


def twilio_from(settings: Settings) -> TwilioTelephony:
    return TwilioTelephony(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        api_base_url=settings.twilio_api_base_url,
        region=settings.twilio_region,
        edge=settings.twilio_edge,
        timeout=settings.twilio_http_timeout,
        retries=settings.twilio_retries,
        backoff=settings.twilio_retry_backoff,
    )


def build_context(
    settings: Settings,
    jobs: Jobs,
    telephony: Telephony | None = None,
    r: redis.Redis | None = None,
    roster: Roster | None = None,
) -> Context:
    """Everything a process needs; fails fast on a bad roster or language file, or without
    the SECRET_KEY every process must share."""
    settings.require_secret_key()
    catalog = load_catalog_for(settings)
    roster = roster or load_roster_for(settings, catalog)
    r = r or connect(settings.redis_url, settings.redis_sentinels, settings.redis_sentinel_master)
    return Context(settings, r, roster, catalog, telephony or twilio_from(settings), jobs)
