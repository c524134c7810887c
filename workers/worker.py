"""The worker process: an RQ worker (scheduler on) plus the periodic-job ticker.

`python -m workers.worker`. Jobs run in this process (RQ's SimpleWorker), so the
roster, catalog and connections are built once, not per job. The ticker enqueues
each periodic job once per period across all workers (a Redis SET NX per slot)
and records this worker's heartbeat for /healthz.
"""
from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time

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


def main() -> None:
    configure_logging()
    ctx = runtime.context()  # fail fast on a bad roster or environment
    runtime.dispatcher()
    ctx.liaisons.sync([l.id for l in ctx.roster.liaisons])
    name = f"{socket.gethostname()}.{os.getpid()}"
    stop = threading.Event()
    thread = threading.Thread(target=ticker, args=(stop, name), daemon=True, name="ticker")
    thread.start()
    s = ctx.settings
    # RQ blocks on BLPOP for up to its dequeue timeout: give it a client without the
    # short socket timeout that request handling uses.
    blocking = connect(s.redis_url, s.redis_sentinels, s.redis_sentinel_master, socket_timeout=None)
    queues = [Queue(PERIODIC_QUEUE, connection=blocking), Queue(DISPATCH_QUEUE, connection=blocking)]
    worker = SimpleWorker(queues, connection=blocking, name=name)
    log.info("worker %s listening on %s", name, ", ".join(q.name for q in queues))
    try:
        worker.work(with_scheduler=True, logging_level="WARNING")
    finally:
        stop.set()
        try:
            ctx.redis.zrem(keys.WORKER_HEARTBEAT, name)
        except Exception:
            pass


if __name__ == "__main__":
    main()
