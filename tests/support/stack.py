"""The whole service running for end-to-end tests: web app, RQ worker processes,
the simulated phone network, all on a real Redis.

The web app runs in a thread of the test process (a real HTTP server), the workers
are separate `python -m workers.worker` processes, and the simulator is the
Twilio stand-in both sides talk to over HTTP, so a test exercises the real SDK,
real signatures, real RQ and real Redis.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, fields, replace
from typing import Callable

import redis
from werkzeug.serving import make_server

from config.roster import Roster
from config.settings import ROOT, Settings
from dispatch import keys
from tests.support.redis_server import free_port


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes `Settings.from_env()` in a child equal `settings`."""
    env: dict[str, str] = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, tuple):
            if value:
                env[f.name.upper()] = ",".join(f"{h}:{p}" for h, p in value)
            continue
        env[f.name.upper()] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return env


@dataclass
class Stack:
    settings: Settings
    base_url: str
    sim: object          # simulator.client.SimulatorClient
    simulator: object    # simulator.Simulator
    roster: Roster
    redis: redis.Redis
    workers: list[subprocess.Popen]
    _server: object
    _env: dict[str, str]

    def reset(self) -> None:
        """Forget every request, liaison state and simulated call between tests."""
        for key in self.redis.scan_iter(keys.PREFIX + "*", count=1000):
            if not key.startswith(keys.WORKER_HEARTBEAT.encode()):
                self.redis.delete(key)
        # Queued jobs, and jobs RQ holds for a later retry: a redirect retried after its test
        # ended would otherwise reach the next test's request of the same number.
        for queue_key in [*self.redis.scan_iter("rq:queue:*"), *self.redis.scan_iter("rq:scheduled:*")]:
            self.redis.delete(queue_key)
        from dispatch.liaisons import LiaisonBoard

        LiaisonBoard(self.redis).sync([l.id for l in self.roster.liaisons])
        self.sim.reset()  # type: ignore[attr-defined]

    def start_worker(self) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "workers.worker"], cwd=ROOT, env=self._env,
                                stdout=subprocess.DEVNULL if not os.environ.get("STACK_LOGS") else None,
                                stderr=subprocess.STDOUT if not os.environ.get("STACK_LOGS") else None)
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, n: int, timeout: float = 20.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.redis.zcount(keys.WORKER_HEARTBEAT, time.time() - 5, "+inf") >= n:
                return
            time.sleep(0.1)
        raise AssertionError(f"{n} workers did not start within {timeout}s")

    def request(self, request_id: str):  # type: ignore[no-untyped-def]
        from dispatch.requests import RequestStore

        return RequestStore(self.redis, self.settings.retention_seconds).get(request_id)

    def requests(self) -> list:
        from dispatch.requests import RequestStore

        store = RequestStore(self.redis, self.settings.retention_seconds)
        ids = [k.decode().rsplit(":", 1)[1] for k in self.redis.scan_iter(keys.PREFIX + "request:R*")
               if k.count(b":") == 2]
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
        raise AssertionError(f"no {what} matched within {timeout}s; saw "
                             + "; ".join(f"{r.id} {r.state.value} {r.outcome}" for r in seen))

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.workers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._server.shutdown()  # type: ignore[attr-defined]
        status_server = getattr(self, "status_server", None)
        if status_server is not None:
            status_server.shutdown()
        self.simulator.stop()  # type: ignore[attr-defined]


def start_stack(base: Settings, workers: int = 2, time_scale: float = 0.05) -> Stack:
    """Start web, workers and simulator wired to each other on free loopback ports."""
    from simulator import Simulator, SimulatorConfig
    from simulator.client import SimulatorClient
    from webhooks import create_app

    web_port, sim_port, status_port = free_port(), free_port(), free_port()
    # Status callbacks at a port of their own, as the Procfile's `callbacks` process serves them.
    settings = replace(base, public_base_url=f"http://127.0.0.1:{web_port}",
                       status_callback_base_url=f"http://127.0.0.1:{status_port}",
                       twilio_api_base_url=f"http://127.0.0.1:{sim_port}")
    env = dict(os.environ, **settings_env(settings), PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    app = create_app(settings)
    roster: Roster = app.extensions["dispatch_context"].roster
    server = make_server("127.0.0.1", web_port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True, name="web").start()
    status_server = make_server("127.0.0.1", status_port, app, threaded=True)
    threading.Thread(target=status_server.serve_forever, daemon=True, name="callbacks").start()
    simulator = Simulator(SimulatorConfig(
        port=sim_port, app_url=settings.public_base_url, account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token, number=roster.service_number, time_scale=time_scale,
        default_answer_after=0.2,
    ))
    simulator.start()
    r = redis.Redis.from_url(settings.redis_url)
    stack = Stack(settings, settings.public_base_url, SimulatorClient(simulator.url), simulator, roster, r, [],
                  server, env)
    stack.status_server = status_server  # type: ignore[attr-defined]
    for _ in range(workers):
        stack.start_worker()
    stack.wait_for_workers(workers)
    return stack
