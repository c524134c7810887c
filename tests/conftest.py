"""Shared fixtures: a real Redis per session (flushed per test) and fast settings."""

from __future__ import annotations

import pytest
import redis
from hypothesis import settings as hypothesis_settings

# Timing belongs in bench/, not in tests: on a loaded 2-core machine a slow example is not a bug.
hypothesis_settings.register_profile("dispatch", deadline=None, max_examples=100)
hypothesis_settings.load_profile("dispatch")

from config.settings import Settings
from tests.support.redis_server import start_redis

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "1" * 32


@pytest.fixture(scope="session")
def redis_server():
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def r(redis_server) -> redis.Redis:
    client = redis_server.client()
    client.flushdb()
    return client


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
    )
    base.update(overrides)
    settings = Settings(**base)  # type: ignore[arg-type]
    settings.validate()
    return settings


@pytest.fixture
def settings(redis_server) -> Settings:
    from dataclasses import replace

    return replace(fast_settings(), redis_url=redis_server.url)


@pytest.fixture
def telephony():
    from tests.support.fakes import FakeTelephony

    return FakeTelephony()


@pytest.fixture
def jobs():
    from tests.support.fakes import RecordingJobs

    return RecordingJobs()


@pytest.fixture
def ctx(settings, r, telephony, jobs):
    """The real wiring (sample roster, catalog, Redis) with fake phone network and jobs."""
    from dispatch.context import build_context

    context = build_context(settings, jobs=jobs, telephony=telephony, r=r)
    context.liaisons.sync([l.id for l in context.roster.liaisons])
    return context


@pytest.fixture
def app(ctx):
    from webhooks import create_app

    application = create_app(context=ctx)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()


def e2e_settings(redis_url: str, **overrides: object) -> Settings:
    """Fast but not frantic: hold prompts loop every ~0.5 s at the simulator's time scale; a
    dropped officer has a few times what a rejoin takes on a loaded machine to come back."""
    from dataclasses import replace

    overrides = {"hold_pause": 10, "reconnect_grace": 8.0, **overrides}
    return replace(fast_settings(**overrides), redis_url=redis_url)


@pytest.fixture(scope="session")
def stack_session():
    """A Redis of its own (another server, or database 1 of TEST_REDIS_URL's): the stack's
    workers sweep and reconcile what they find, and must never act on a unit test's data
    (nor a unit test's flush pull the stack's from under it)."""
    from tests.support.redis_server import start_redis
    from tests.support.stack import start_stack

    server = start_redis(db=1)
    server.client().flushdb()
    running = start_stack(e2e_settings(server.url))
    yield running
    running.stop()
    server.stop()


@pytest.fixture
def stack(stack_session):
    """The running service (web, 2 RQ workers, simulator), reset to a clean state."""
    stack_session.reset()
    yield stack_session


@pytest.fixture
def gunicorn(settings):
    """Start the service under a real gunicorn: `gunicorn(**setting_overrides)` → Gunicorn
    (see tests/support/gunicorn.py); every server started is stopped after the test."""
    from dataclasses import replace

    from tests.support.gunicorn import start_gunicorn

    started = []

    def start(workers: int = 1, threads: int = 4, env: dict[str, str] | None = None, **overrides: object):
        server = start_gunicorn(replace(settings, **overrides), workers=workers, threads=threads, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
