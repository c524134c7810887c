"""The Jobs port on RQ: task names map to the job functions in workers/.

"route" is special: requests to route go into the route inbox (adapters/route_inbox.py)
and a few drainer jobs route them in batches, concurrently; every other task is one RQ
job per call. "tell_caller" is retried by RQ itself, with backoff, when it fails.
"""

from __future__ import annotations

import secrets

import redis
from rq import Queue, Retry

from adapters.redis_connection import connect
from adapters.route_inbox import RouteInbox
from config.settings import Settings

DISPATCH_QUEUE = "dispatch"
PERIODIC_QUEUE = "periodic"  # listened to first, so the sweeper never waits behind a surge

TASKS = {
    "route": "workers.dispatching.route",  # still served: route jobs enqueued before the inbox
    "drain": "workers.dispatching.drain",
    "dial_vendor": "workers.dispatching.dial_vendor",
    "tell_caller": "workers.dispatching.tell_caller",
    "hang_up": "workers.dispatching.hang_up",
    "withdraw_offer": "workers.dispatching.withdraw_offer",
    "sweep": "workers.maintenance.sweep",
    "reconcile": "workers.maintenance.reconcile",
    "notify": "workers.notifications.notify",
    "text_liaison": "workers.notifications.text_liaison",
    "remind_bookings": "workers.maintenance.remind_bookings",
    "call_back": "workers.callbacks.call_back",
    "rejoin_dropped": "workers.rejoining.dropped",
    "rejoin_call_back": "workers.rejoining.call_back",
    "rejoin_redirect": "workers.rejoining.redirect",
    "to_vendor_directly": "workers.lost_requests.to_vendor_directly",
}
JOB_TIMEOUT = 60  # seconds; a drainer hands over to a successor well before this
REDIRECT_RETRIES = 8
REDIRECT_RETRY_CAP = 60  # seconds between two tries at most


def redirect_retry(settings: Settings) -> Retry:
    """A redirect of the officer's call the network refused (after the adapter's own quick
    retries) is tried again later, waiting twice as long each time up to a minute: with the
    default 5 s, 8 more tries over about 5 minutes. RQ's scheduler, which every worker runs,
    does the waiting, so a refused redirect is neither dropped nor holding a worker."""
    first = settings.redirect_retry_after
    cap = max(first, REDIRECT_RETRY_CAP)
    return Retry(max=REDIRECT_RETRIES, interval=[min(first * 2**k, cap) for k in range(REDIRECT_RETRIES)])


class RQJobs:
    """Enqueue dispatch work for any worker process sharing this Redis."""

    def __init__(self, queue: Queue, periodic: Queue, inbox: RouteInbox, retries: dict[str, Retry] | None = None):
        self.queue = queue
        self.periodic = periodic
        self.inbox = inbox
        self.retries = retries or {}

    @classmethod
    def from_settings(cls, settings: Settings, r: redis.Redis | None = None) -> RQJobs:
        """On `r` (the process's own client), or a client of its own."""
        r = r or connect(settings.redis_url, settings.redis_sentinels, settings.redis_sentinel_master)
        inbox = RouteInbox(r, slots=settings.route_drainers, lease_seconds=settings.route_lease_seconds)
        return cls(
            Queue(DISPATCH_QUEUE, connection=r),
            Queue(PERIODIC_QUEUE, connection=r),
            inbox,
            retries={"tell_caller": redirect_retry(settings), "to_vendor_directly": redirect_retry(settings)},
        )

    def submit(self, task: str, *args: str) -> None:
        if task == "route":
            token = _token()
            self.start_drainer(self.inbox.add(args[0], token), token)
            return
        queue = self.periodic if task == "sweep" else self.queue
        queue.enqueue(
            TASKS[task],
            *args,
            job_timeout=JOB_TIMEOUT,
            result_ttl=0,
            failure_ttl=24 * 3600,
            retry=self.retries.get(task),
        )

    def waiting_ids(self, task: str) -> set[str]:
        """Requests waiting in the route inbox (a drainer is made sure of if any are)."""
        if task != "route":
            return set()
        ids = self.inbox.members()
        if ids:
            token = _token()
            self.start_drainer(self.inbox.resume(token), token)
        return ids

    def start_drainer(self, slot: int | None, token: str) -> None:
        """Enqueue a drainer for a slot just leased to `token` (None: nothing to start)."""
        if slot is not None:
            self.queue.enqueue(
                TASKS["drain"], str(slot), token, job_timeout=JOB_TIMEOUT, result_ttl=0, failure_ttl=24 * 3600
            )


def _token() -> str:
    return secrets.token_hex(8)
