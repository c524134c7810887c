"""The fixtures: a real Redis per session (flushed per test), fast settings, the service's own
wiring with fakes for the phone network and the job queue, the app, the whole stack, gunicorn,
the phone simulator. Helpers the tests share are modules of tests/support, not of this file."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis
from hypothesis import settings as hypothesis_settings

from config.settings import Settings
from tests.support.redis_server import start_redis
from tests.support.settings import e2e_settings, fast_settings

# Timing belongs in bench/, not in tests: on a loaded 2-core machine a slow example is not a bug.
hypothesis_settings.register_profile("dispatch", deadline=None, max_examples=100)
hypothesis_settings.load_profile("dispatch")


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


@pytest.fixture
def settings(redis_server, request) -> Settings:
    """fast_settings on the session's Redis; `@pytest.mark.settings(name=value, ...)` on a test
    changes some of them."""
    marker = request.node.get_closest_marker("settings")
    return replace(fast_settings(**(marker.kwargs if marker else {})), redis_url=redis_server.url)


@pytest.fixture
def telephony():
    from tests.support.fakes import FakeTelephony

    return FakeTelephony()


@pytest.fixture
def jobs():
    from tests.support.fakes import RecordingJobs

    return RecordingJobs()


@pytest.fixture
def wiring(settings, r, telephony, jobs):
    """The real wiring (bootstrap: sample roster, catalog, Redis, every service) with a fake
    phone network and recorded jobs; the job functions (jobs.drain()) run on it too."""
    from bootstrap import bootstrap
    from workers import runtime

    built = bootstrap(settings, redis=r, telephony=telephony, jobs=jobs)
    built.ctx.liaisons.sync([liaison.id for liaison in built.ctx.roster.liaisons])
    runtime.use(built)
    yield built
    runtime.use(None)


@pytest.fixture
def rewire(settings, r, telephony, jobs):
    """`rewire(**setting_overrides)`, or `rewire(telephony=other)`: the wiring built again on the
    same Redis and jobs, with other settings or another phone network (and bound for the jobs)."""
    from bootstrap import bootstrap
    from workers import runtime

    def build(telephony=telephony, **overrides):
        built = bootstrap(replace(settings, **overrides), redis=r, telephony=telephony, jobs=jobs)
        runtime.use(built)
        return built

    return build


@pytest.fixture
def later(monkeypatch):
    """`later(seconds)`: the domain's clock (dispatch.clock) moved forward by `seconds`."""
    from dispatch import clock

    real = clock.now

    def move(seconds: float) -> None:
        monkeypatch.setattr(clock, "now", lambda: real() + seconds)

    return move


@pytest.fixture
def ctx(wiring):
    """The ports and stores the services share (wiring.ctx)."""
    return wiring.ctx


@pytest.fixture
def app(wiring):
    from webhooks import create_app

    application = create_app(wiring)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def stack_session():
    """A Redis of its own (another server, or database 1 of TEST_REDIS_URL's): the stack's
    workers sweep and reconcile what they find, and must never act on a unit test's data
    (nor a unit test's flush pull the stack's from under it)."""
    from tests.support.redis_server import start_redis
    from tests.support.stack import start_stack

    server = start_redis(db=1)
    try:  # a stack that fails to start must not leave its Redis running after the session
        server.client().flushdb()
        running = start_stack(e2e_settings(server.url))
        yield running
        running.stop()
    finally:
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


@pytest.fixture
def h():
    """The phone simulator wired to a scripted app (tests/support/simulator_harness.py)."""
    from tests.support.simulator_harness import Harness

    with Harness() as harness:
        yield harness
