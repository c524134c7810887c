"""The worker process: an RQ worker (scheduler on) plus the periodic-job ticker.

`python -m workers.worker`. Jobs run in this process (RQ's SimpleWorker), so the
roster, catalog and connections are built once, not per job. The ticker enqueues
each periodic job once per period across all workers (a Redis SET NX per slot)
and records this worker's heartbeat for /healthz. A starting worker also asks for
one reconciler run at once.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
import time
from types import FrameType

import redis
from rq import Queue, SimpleWorker
from rq.scheduler import RQScheduler

from adapters.redis_connection import connect, unavailable
from adapters.rq_jobs import DISPATCH_QUEUE, PERIODIC_QUEUE
from logs import ids_in, log_context
from workers import runtime
from workers.schedule import periodic_jobs

log = logging.getLogger("workers.worker")
TICK = 0.2
# RQ's scheduler process (retries, enqueue_in) dies on any Redis error, and RQ starts it again
# at its maintenance, every 10 minutes by default: every 10 s here, so a Redis outage delays
# scheduled jobs by seconds, not minutes.
SCHEDULER_CHECK = 10


def ticker(stop: threading.Event, name: str) -> None:
    """Enqueue due periodic jobs and beat the heart until `stop` is set."""
    wiring = runtime.wiring()
    jobs = periodic_jobs(wiring.settings)
    while not stop.is_set():
        now = time.time()
        try:
            wiring.heartbeats.beat(name, now)
            for job in jobs:
                if wiring.leases.claim_period(job.task, int(now // job.every), name, math.ceil(job.every * 3) + 1):
                    wiring.ctx.jobs.submit(job.task)
        except Exception as exc:  # Redis restarting: keep ticking, the worker reconnects
            log.warning("ticker: %s", type(exc).__name__)
        stop.wait(TICK)


def _released(scheduler: RQScheduler) -> bool:
    """Whether a scheduler of an earlier loop holds no lock any more. Its process ended with
    that loop, but a lock it could not release (Redis was gone) would keep this worker's new
    scheduler from scheduling anything (RQ's retries, `enqueue_in`) until it expired."""
    try:
        scheduler.release_locks()
        return True
    except redis.exceptions.RedisError:
        return False


def _reason(exc: BaseException) -> str:
    """The error's kind, and Redis's own code for a refusal (NOREPLICAS, READONLY)."""
    if isinstance(exc, redis.exceptions.ResponseError):
        return str(exc).rpartition("caused error: ")[2].split(" ", 1)[0]
    return type(exc).__name__


class _Worker(SimpleWorker):
    """RQ's SimpleWorker, remembering that a stop was asked for (SIGTERM / SIGINT), so
    main() can tell a stop from the work loop quitting because Redis went away."""

    stop_asked = threading.Event()

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_asked.set()
        super().request_stop(signum, frame)

    def perform_job(self, job, queue):
        """Every line a job logs names its request and call (LOG_FORMAT=json)."""
        with log_context(**ids_in(job.args)):
            return super().perform_job(job, queue)


def main() -> None:
    wiring = runtime.wiring()  # logging set up; fails fast on a bad roster or environment
    settings, ctx = wiring.settings, wiring.ctx
    # Webhooks must answer Twilio within seconds and the dashboards are live; routing can
    # wait a few milliseconds. Where they share CPUs, the kernel favours the web processes.
    if settings.worker_nice:
        os.nice(settings.worker_nice)
    ctx.liaisons.sync([liaison.id for liaison in ctx.roster.liaisons])
    # Callbacks may have been lost while no process was up to take them (a restart): the
    # reconciler looks at once rather than a period from now.
    ctx.jobs.submit("reconcile")
    name = f"{socket.gethostname()}.{os.getpid()}"
    stop = threading.Event()
    thread = threading.Thread(target=ticker, args=(stop, name), daemon=True, name="ticker")
    thread.start()
    # RQ blocks on BLPOP for up to its dequeue timeout: give it a client without the
    # short socket timeout that request handling uses.
    blocking = connect(
        settings.redis_url, settings.redis_sentinels, settings.redis_sentinel_master, socket_timeout=None
    )
    queues = [Queue(PERIODIC_QUEUE, connection=blocking), Queue(DISPATCH_QUEUE, connection=blocking)]
    log.info("worker %s listening on %s", name, ", ".join(q.name for q in queues))
    try:
        # RQ's work loop quits when Redis vanishes while it is not blocked on the queue (a
        # job's bookkeeping, its heartbeat) or refuses a write (NOREPLICAS just after a
        # Sentinel failover, or a transaction that refusal cut short), and its teardown then
        # raises: a Redis restart would end the process. Start the loop again (under a new RQ
        # name: the old one could not register its death) until a stop is asked for.
        attempt = 0
        stale: list[RQScheduler] = []  # earlier loops' schedulers, whose locks may outlive them
        while not _Worker.stop_asked.is_set():
            stale = [old for old in stale if not _released(old)]
            worker = None
            try:
                worker = _Worker(
                    queues,
                    connection=blocking,
                    name=name if attempt == 0 else f"{name}.{attempt}",
                    maintenance_interval=SCHEDULER_CHECK,
                )
                worker.work(with_scheduler=True, logging_level="WARNING")
            except redis.exceptions.RedisError as exc:
                if unavailable(exc):
                    log.warning("worker %s: lost Redis (%s); starting again", name, _reason(exc))
                else:
                    log.error("worker %s: RQ quit on a Redis error; starting again", name, exc_info=exc)
            if worker is not None and worker.scheduler is not None:
                stale.append(worker.scheduler)
            attempt += 1
            if not _Worker.stop_asked.is_set():
                time.sleep(1.0)
    finally:
        stop.set()
        with contextlib.suppress(redis.RedisError):  # gone with Redis: its beat ages out
            wiring.heartbeats.leave(name)


if __name__ == "__main__":
    main()
