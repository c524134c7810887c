"""The worker process: an RQ worker (scheduler on) plus the periodic-job ticker.

`python -m workers.worker`. Jobs run in this process (RQ's SimpleWorker), so the
roster, catalog and connections are built once, not per job. The ticker enqueues
each periodic job once per period across all workers (a Redis SET NX per slot)
and records this worker's heartbeat for /healthz. A starting worker also asks for
one reconciler run at once.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time

import redis
from rq import Queue, SimpleWorker

from dispatch import keys
from dispatch.redis_conn import connect
from webhooks.app import configure_logging
from workers import runtime
from workers.jobqueue import DISPATCH_QUEUE, PERIODIC_QUEUE
from workers.schedule import periodic_jobs

log = logging.getLogger("workers.worker")
TICK = 0.2


def ticker(stop: threading.Event, name: str) -> None:
    """Enqueue due periodic jobs and beat the heart until `stop` is set."""
    ctx = runtime.context()
    jobs = periodic_jobs(ctx.settings)
    while not stop.is_set():
        now = time.time()
        try:
            ctx.redis.zadd(keys.WORKER_HEARTBEAT, {name: now})
            for job in jobs:
                slot = int(now // job.every)
                if ctx.redis.set(keys.periodic(job.task, slot), name, nx=True, ex=math.ceil(job.every * 3) + 1):
                    ctx.jobs.submit(job.task)
        except Exception as exc:  # Redis restarting: keep ticking, the worker reconnects
            log.warning("ticker: %s", type(exc).__name__)
        stop.wait(TICK)


class _Worker(SimpleWorker):
    """RQ's SimpleWorker, remembering that a stop was asked for (SIGTERM / SIGINT), so
    main() can tell a stop from the work loop quitting because Redis went away."""

    stop_asked = threading.Event()

    def request_stop(self, signum, frame):  # type: ignore[no-untyped-def]
        self.stop_asked.set()
        super().request_stop(signum, frame)


def main() -> None:
    configure_logging()
    ctx = runtime.context()  # fail fast on a bad roster or environment
    # Webhooks must answer Twilio within seconds and the dashboards are live; routing can
    # wait a few milliseconds. Where they share CPUs, the kernel favours the web processes.
    if ctx.settings.worker_nice:
        os.nice(ctx.settings.worker_nice)
    runtime.dispatcher()
    ctx.liaisons.sync([l.id for l in ctx.roster.liaisons])
    # Callbacks may have been lost while no process was up to take them (a restart): the
    # reconciler looks at once rather than a period from now.
    ctx.jobs.submit("reconcile")
    name = f"{socket.gethostname()}.{os.getpid()}"
    stop = threading.Event()
    thread = threading.Thread(target=ticker, args=(stop, name), daemon=True, name="ticker")
    thread.start()
    s = ctx.settings
    # RQ blocks on BLPOP for up to its dequeue timeout: give it a client without the
    # short socket timeout that request handling uses.
    blocking = connect(s.redis_url, s.redis_sentinels, s.redis_sentinel_master, socket_timeout=None)
    queues = [Queue(PERIODIC_QUEUE, connection=blocking), Queue(DISPATCH_QUEUE, connection=blocking)]
    log.info("worker %s listening on %s", name, ", ".join(q.name for q in queues))
    try:
        # RQ's work loop quits when Redis vanishes while it is not blocked on the queue (a
        # job's bookkeeping, its heartbeat), and its teardown then raises: a Redis restart
        # would end the process. Start the loop again (under a new RQ name: the old one
        # could not register its death) until a stop is asked for (SIGTERM / SIGINT).
        attempt = 0
        while not _Worker.stop_asked.is_set():
            try:
                worker = _Worker(queues, connection=blocking, name=name if attempt == 0 else f"{name}.{attempt}")
                worker.work(with_scheduler=True, logging_level="WARNING")
            except redis.exceptions.ConnectionError as exc:
                log.warning("worker %s: lost Redis (%s); starting again", name, type(exc).__name__)
            attempt += 1
            if not _Worker.stop_asked.is_set():
                time.sleep(1.0)
    finally:
        stop.set()
        try:
            ctx.redis.zrem(keys.WORKER_HEARTBEAT, name)
        except Exception:
            pass


if __name__ == "__main__":
    main()
