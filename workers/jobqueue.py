"""The Jobs port on RQ: task names map to job functions in this package."""
from __future__ import annotations

from rq import Queue

from config.settings import Settings
from dispatch.redis_conn import connect

DISPATCH_QUEUE = "dispatch"
PERIODIC_QUEUE = "periodic"  # listened to first, so the sweeper never waits behind a surge

TASKS = {
    "route": "workers.dispatching.route",
    "sweep": "workers.maintenance.sweep",
    "notify": "workers.notifications.notify",
    "call_back": "workers.callbacks.call_back",
}


class RQJobs:
    """Enqueue dispatch work for any worker process sharing this Redis."""

    def __init__(self, queue: Queue, periodic: Queue):
        self.queue = queue
        self.periodic = periodic

    @classmethod
    def from_settings(cls, settings: Settings) -> "RQJobs":
        r = connect(settings.redis_url, settings.redis_sentinels, settings.redis_sentinel_master)
        return cls(Queue(DISPATCH_QUEUE, connection=r), Queue(PERIODIC_QUEUE, connection=r))

    def submit(self, task: str, *args: str) -> None:
        queue = self.periodic if task == "sweep" else self.queue
        queue.enqueue(TASKS[task], *args, job_timeout=60, result_ttl=0, failure_ttl=24 * 3600)
