"""The composition root (cosmicpython's bootstrap.py): the one place that builds a process.

Settings from the environment, the roster and the language catalog, Redis, the phone network
(the twilio SDK adapter, or what a test passes), the job queue (RQ, or a test's), logging, the
stores and the domain's services wired to each other. Every entrypoint calls `bootstrap`: the
web app (webhooks.create_app, for gunicorn and the `flask` CLI), the worker (workers.runtime),
the launcher, the benchmarks, and the tests' fixtures, which pass fakes for the ports and so
get the real wiring of everything else.

    wiring = bootstrap()                                   # production: all from the environment
    wiring = bootstrap(settings, redis=r, telephony=fake, jobs=recording)   # a test
    wiring.offers.route("R00042")
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from adapters.redis_connection import connect
from adapters.rq_jobs import RQJobs
from adapters.twilio_telephony import TwilioTelephony
from config.roster import load_roster
from config.settings import Settings
from dispatch.audit import AuditLog
from dispatch.call_ends import CallEnds
from dispatch.context import Context
from dispatch.counters import Counters
from dispatch.coverage_figures import CoverageFigures
from dispatch.deliveries import Deliveries
from dispatch.heartbeats import Heartbeats
from dispatch.intake import Intake
from dispatch.jobs import Jobs
from dispatch.languages import Catalog, default_catalog, load_catalog
from dispatch.leases import Leases
from dispatch.liaison_time import LiaisonTime
from dispatch.liaisons import LiaisonBoard
from dispatch.offer_outcomes import OfferOutcomes
from dispatch.offers import Offers
from dispatch.pin_guard import PinGuard
from dispatch.pseudonyms import Pseudonyms
from dispatch.reconcile import Reconciler
from dispatch.rejoin import RejoinWait
from dispatch.rejoin_ends import RejoinEnds
from dispatch.rejoin_numbers import RejoinNumbers
from dispatch.report_facts import ReportFacts
from dispatch.requests import RequestStore
from dispatch.roster import Roster
from dispatch.sergeant import SergeantActions
from dispatch.sessions import Sessions
from dispatch.signin_lock import SigninLock
from dispatch.sms.callback import CallBacks
from dispatch.sms.duty import LiaisonTexts
from dispatch.sms.own_requests import OwnRequests
from dispatch.sms.pending import PendingTexts
from dispatch.sms.service import SmsService
from dispatch.sms.supervisor import SupervisorTexts
from dispatch.sweeper import Sweeper
from dispatch.telephony import Telephony
from dispatch.urls import Urls
from dispatch.vendor_bridge import VendorBridge
from logs import configure_logging

REJOIN_GATE_MAX_SECONDS = 1.0  # how stale "may any officer be waiting to rejoin?" may be (rejoin_numbers.py)


@dataclass(frozen=True)
class Wiring:
    """One process's services, built once: entrypoints call these and nothing lower."""

    settings: Settings  # everything the process reads (the domain reads ctx.settings)
    ctx: Context  # the ports and stores every service shares
    intake: Intake  # open, start, retry a request; its place in line
    offers: Offers  # route: ring the next liaisons who speak the request's language
    offer_outcomes: OfferOutcomes  # an offer's pick-up, key press and end (declined, unanswered, timed out)
    vendor: VendorBridge  # the vendor bridge: dial, answered, ended, failed
    call_ends: CallEnds  # the interpreter left, the officer's leg ended, tell the officer
    rejoin_wait: RejoinWait  # a dropped officer: keep the interpreter, prompt them, call the officer back
    rejoin_ends: RejoinEnds  # the wait ends: the officer back, the interpreter gone, the grace over
    sweeper: Sweeper  # the deadlines of every waiting state
    reconciler: Reconciler  # the phone network's word on calls whose callbacks were lost
    sergeant: SergeantActions  # cancel, send to the vendor now, offer again
    texts: SmsService  # texted requests and liaisons' duty texts
    call_backs: CallBacks  # a texted request's call-back
    heartbeats: Heartbeats  # which workers are alive
    leases: Leases  # periodic jobs run once per period across workers
    sessions: Sessions  # the dashboard's signed-in sessions
    signin_lock: SigninLock  # failed sign-ins lock the guesser out
    report: ReportFacts  # the incident number and interpreter ID for the officer's report
    liaison_time: LiaisonTime  # bookings and reminders, call-outs, calendar feeds (issue 18)
    coverage: CoverageFigures  # anonymous figures counted at each request's end (coverage planning)


def load_languages(settings: Settings) -> Catalog:
    return load_catalog(settings.languages_file) if settings.languages_file else default_catalog()


def load_roster_file(settings: Settings, catalog: Catalog) -> Roster:
    """Read and validate the roster; raises ConfigError naming file, line and reason."""

    def known(code: str) -> str | None:
        language = catalog.get(code)
        if language is None:
            found = catalog.resolve(code)
            language = found.language if found.kind == "match" and found.via != "fuzzy" else None
        return language.id if language else None

    return load_roster(settings.roster_file, known)


def twilio_telephony(settings: Settings) -> TwilioTelephony:
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


def redis_for(settings: Settings) -> redis.Redis:
    return connect(settings.redis_url, settings.redis_sentinels, settings.redis_sentinel_master)


def bootstrap(
    settings: Settings | None = None,
    *,
    redis: redis.Redis | None = None,
    telephony: Telephony | None = None,
    jobs: Jobs | None = None,
    roster: Roster | None = None,
) -> Wiring:
    """Everything a process needs. Fails fast (ConfigError) on a bad environment, roster or
    language file, or without the SECRET_KEY every process must share."""
    configure_logging()
    settings = settings or Settings.from_env()
    settings.require_secret_key()
    catalog = load_languages(settings)
    roster = roster or load_roster_file(settings, catalog)
    r = redis or redis_for(settings)
    ctx = Context(
        settings=settings,
        redis=r,
        roster=roster,
        catalog=catalog,
        telephony=telephony or twilio_telephony(settings),
        jobs=jobs or RQJobs.from_settings(settings, r),
        urls=Urls(settings.public_base_url, settings.status_callback_base_url),
        pseudonyms=Pseudonyms(settings.secret_key),
        requests=RequestStore(r, settings.retention_seconds, settings.events_maxlen),
        liaisons=LiaisonBoard(r, settings.events_maxlen),
        pins=PinGuard(r, roster, settings.pin_failures_per_hour, settings.pin_lockout_seconds, settings.events_maxlen),
        audit=AuditLog(r, settings.audit_retention_seconds),
        deliveries=Deliveries(r, settings.retention_seconds),
        counters=Counters(r),
    )
    leases = Leases(r)
    coverage = CoverageFigures(r, settings.coverage_retention_days, roster.timezone, settings.retention_seconds)
    ctx.requests.on_end(coverage.count_quietly)  # every end passes the store's checked transition once
    rejoin_numbers = RejoinNumbers(r, gate_seconds=min(REJOIN_GATE_MAX_SECONDS, settings.sweep_interval))
    rejoin_wait = RejoinWait(ctx, rejoin_numbers)
    rejoin_ends = RejoinEnds(ctx, rejoin_numbers)
    call_ends = CallEnds(ctx, rejoin_wait, rejoin_ends)
    vendor = VendorBridge(ctx, call_ends)
    offer_outcomes = OfferOutcomes(ctx, vendor, call_ends)
    offers = Offers(ctx, vendor, offer_outcomes)
    intake = Intake(ctx)
    sergeant = SergeantActions(ctx, vendor, call_ends)
    report = ReportFacts(ctx)
    pending = PendingTexts(r)
    own_requests = OwnRequests(ctx, intake, sergeant, pending, report)
    texts = SmsService(ctx, LiaisonTexts(ctx), SupervisorTexts(ctx, intake, own_requests, pending))
    return Wiring(
        settings=settings,
        ctx=ctx,
        intake=intake,
        offers=offers,
        offer_outcomes=offer_outcomes,
        vendor=vendor,
        call_ends=call_ends,
        rejoin_wait=rejoin_wait,
        rejoin_ends=rejoin_ends,
        sweeper=Sweeper(ctx, offers, offer_outcomes, vendor, call_ends, rejoin_ends),
        reconciler=Reconciler(ctx, rejoin_wait, leases),
        sergeant=sergeant,
        texts=texts,
        call_backs=CallBacks(ctx, intake, call_ends),
        heartbeats=Heartbeats(r),
        leases=leases,
        sessions=Sessions(r, settings.session_idle_minutes * 60),
        signin_lock=SigninLock(
            r,
            settings.signin_max_failures,
            settings.signin_ip_max_failures,
            settings.signin_lock_seconds,
            ctx.counters,
        ),
        report=report,
        liaison_time=LiaisonTime.build(ctx),
        coverage=coverage,
    )
