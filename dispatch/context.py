"""What every service shares: the settings it reads, the roster and catalog, the ports (the
phone network, the job queue) and the stores on Redis.

bootstrap.py builds one per process, with real adapters or a test's; nothing here connects to
anything, so the domain names no adapter.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from dispatch.audit import AuditLog
from dispatch.counters import Counters
from dispatch.deliveries import Deliveries
from dispatch.jobs import Jobs
from dispatch.languages import Catalog
from dispatch.liaisons import LiaisonBoard
from dispatch.pin_guard import PinGuard
from dispatch.pseudonyms import Pseudonyms
from dispatch.requests import RequestStore
from dispatch.roster import Roster
from dispatch.settings import DispatchSettings
from dispatch.telephony import Telephony
from dispatch.urls import Urls


@dataclass(frozen=True)
class Context:
    settings: DispatchSettings
    redis: redis.Redis  # for the stores' module functions (events, rate limits, API tokens)
    roster: Roster
    catalog: Catalog
    telephony: Telephony
    jobs: Jobs
    urls: Urls
    pseudonyms: Pseudonyms
    requests: RequestStore
    liaisons: LiaisonBoard
    pins: PinGuard
    audit: AuditLog
    deliveries: Deliveries
    counters: Counters  # failures counted for /metrics, shared by every process


@dataclass(eq=False)
class Service:
    """A domain service: the context every service shares, and the request store most of them
    work on. A service's other fields are the services it calls (bootstrap.py wires them)."""

    ctx: Context

    @property
    def store(self) -> RequestStore:
        return self.ctx.requests
