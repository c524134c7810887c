"""The whole service running for end-to-end tests: web app, RQ worker processes, the
simulated phone network, all on a real Redis.

The worker processes are started by the launcher (launcher/stack.py), as `make run` and the
benchmarks start theirs: the Procfile's `worker` entry, each in a process group of its own,
stopped within a bound. The web app (on a port for Twilio's webhooks and another for status
callbacks, as the Procfile's `web` and `callbacks` processes serve them) and the simulator
run in threads of the test process, real HTTP servers that a test can also look inside.
Everything speaks HTTP, so a test exercises the real SDK, real signatures, real RQ and Redis.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import redis
from werkzeug.serving import make_server

from config.settings import Settings
from dispatch import keys
from dispatch.roster import Roster
from launcher.stack import Ports, settings_env
from launcher.stack import Stack as Launched

__all__ = ["Stack", "settings_env", "start_stack"]


@dataclass
class Stack:
    settings: Settings
    base_url: str
    sim: object  # simulator.client.SimulatorClient
    simulator: object  # simulator.Simulator
    roster: Roster
    redis: redis.Redis
    workers: list[subprocess.Popen]
    _server: object
    _env: dict[str, str]
    _launched: Launched
    _servers: list = field(default_factory=list)  # every HTTP server of the app in this process

    def reset(self) -> None:
        """Forget every request, liaison state and simulated call between tests."""
        for key in self.redis.scan_iter(keys.PREFIX + "*", count=1000):
            if not key.startswith(keys.WORKER_HEARTBEAT.encode()):
                self.redis.delete(key)
        # Queued jobs, and jobs RQ holds for a later retry: a redirect retried after its test
        # ended would otherwise reach the next test's request of the same number.
        for queue_key in [*self.redis.scan_iter("rq:queue:*"), *self.redis.scan_iter("rq:scheduled:*")]:
            self.redis.delete(queue_key)
        from dispatch import events
        from dispatch.liaisons import LiaisonBoard

        # The event stream starts again after a mark: a page opened now reads the snapshot "as of"
        # the mark, so the app's broadcaster never replays an earlier test's rows it still holds
        # (an empty stream would make the page ask for everything after 0-0).
        events.publish(self.redis, "reset", {})
        LiaisonBoard(self.redis).sync([liaison.id for liaison in self.roster.liaisons])
        self.sim.reset()  # type: ignore[attr-defined]

    def start_worker(self) -> subprocess.Popen:
        """One more `python -m workers.worker` process (returned; also in `workers`)."""
        proc = self._launched.start_worker(self._env)
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, n: int, timeout: float = 20.0) -> None:
        self._launched.wait_workers(n, timeout=timeout)

    def request(self, request_id: str):  # type: ignore[no-untyped-def]
        from dispatch.requests import RequestStore

        return RequestStore(self.redis, self.settings.retention_seconds).get(request_id)

    def requests(self) -> list:
        from dispatch.requests import RequestStore

        store = RequestStore(self.redis, self.settings.retention_seconds)
        ids = [
            k.decode().rsplit(":", 1)[1] for k in self.redis.scan_iter(keys.PREFIX + "request:R*") if k.count(b":") == 2
        ]
        return sorted(store.get_many(ids), key=lambda rec: rec.id)

    def wait_request(self, pred: Callable, timeout: float = 15.0, what: str = "request"):  # type: ignore[no-untyped-def]
        """Poll the records until one satisfies `pred`; fail with what was seen."""
        deadline = time.time() + timeout
        seen: list = []
        while time.time() < deadline:
            seen = self.requests()
            for rec in seen:
                if pred(rec):
                    return rec
            time.sleep(0.05)
        raise AssertionError(
            f"no {what} matched within {timeout}s; saw "
            + "; ".join(f"{r.id} {r.state.value} {r.outcome}" for r in seen)
        )

    def stop(self) -> None:
        """The simulator first (its live calls end silently), then the workers, then the app."""
        self.simulator.stop()  # type: ignore[attr-defined]
        self._launched.stop()
        for server in self._servers:
            server.shutdown()


def start_stack(base: Settings, workers: int = 2, time_scale: float = 0.05) -> Stack:
    """Start web, workers and simulator wired to each other on free loopback ports."""
    from bootstrap import bootstrap
    from simulator import Simulator, SimulatorConfig
    from simulator.client import SimulatorClient
    from webhooks import create_app

    ports = Ports.free()
    # Status callbacks at a port of their own, as the Procfile's `callbacks` process serves them.
    settings = replace(
        base,
        public_base_url=ports.url("web"),
        status_callback_base_url=ports.url("callbacks"),
        twilio_api_base_url=ports.url("sim"),
    )
    env = dict(os.environ, **settings_env(settings), PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    launched = Launched(
        env, ports, served=(), workers=0, output=None if os.environ.get("STACK_LOGS") else subprocess.DEVNULL
    )
    wired = bootstrap(settings)
    app = create_app(wired)
    roster: Roster = wired.ctx.roster
    servers = []
    for name, port in (("web", ports.web), ("callbacks", ports.callbacks)):
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True, name=name).start()
        servers.append(server)
    simulator = Simulator(
        SimulatorConfig(
            port=ports.sim,
            app_url=settings.public_base_url,
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            number=roster.service_number,
            time_scale=time_scale,
            default_answer_after=0.2,
        )
    )
    simulator.start()
    stack = Stack(
        settings,
        settings.public_base_url,
        SimulatorClient(simulator.url),
        simulator,
        roster,
        redis.Redis.from_url(settings.redis_url),
        [],
        servers[0],
        env,
        launched,
        servers,
    )
    try:
        for _ in range(workers):
            stack.start_worker()
        stack.wait_for_workers(workers)
    except BaseException:
        stack.stop()
        raise
    return stack
