"""Jobs that move requests: offer to a liaison or dial the vendor.

A drainer takes batches from the route inbox (adapters/route_inbox.py, which says why it is
not one RQ job per request) and routes them on a thread pool: routing is mostly waiting
(Redis round trips, the phone network's answer to a call create), so a few routes at once
drain a surge that one-at-a-time routing could not. Routing is safe to run concurrently:
liaison claims and every state change are atomic, guarded scripts.
"""

from __future__ import annotations

import functools
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from rq import get_current_job

from adapters.route_inbox import RouteInbox
from adapters.rq_jobs import RQJobs
from dispatch.telephony import TelephonyError
from workers.runtime import wiring

log = logging.getLogger(__name__)
DRAIN_BUDGET = 30.0  # seconds a drainer works before handing over (RQ's job timeout is 60)


def route(request_id: str) -> None:
    """Route one queued request (no-op if it has moved on meanwhile)."""
    wiring().offers.route(request_id)


def dial_vendor(request_id: str, token: str) -> None:
    """Dial the vendor number a transition chose (the alternate after the main failed)."""
    wiring().vendor.dial_vendor(request_id, token)


def tell_caller(request_id: str, path: str) -> None:
    """Redirect the officer's call (no interpreter reachable / the interpreter left).

    Refused, it raises, and RQ tries it again later (adapters/rq_jobs.py redirect_retry);
    after the last try the hold loop is told to stop promising the retry menu.
    """
    try:
        wiring().call_ends.tell_caller(request_id, path)
    except TelephonyError as exc:
        job = get_current_job()
        left = job.retries_left if job is not None else None
        if not left:
            wiring().call_ends.caller_not_told(request_id)
        else:
            log.warning("request %s: could not redirect the caller (%s); %d tries left", request_id, exc, left)
        raise


def withdraw_offer(request_id: str, offer_id: str, liaison_id: str, call_sid: str) -> None:
    """Tell a liaison hearing a whisper that another interpreter took the request."""
    wiring().offer_outcomes.withdraw_call(request_id, offer_id, liaison_id, call_sid)


def hang_up(request_id: str, call_sid: str) -> None:
    """Stop a call a webhook wants stopped (the officer hung up, a cancel)."""
    wiring().call_ends.hang_up(request_id, call_sid)


def drain(slot: str, token: str) -> int:
    """Route what waits in the inbox, holding drainer slot `slot`; returns how many."""
    jobs = wiring().ctx.jobs
    if not isinstance(jobs, RQJobs):
        raise TypeError(f"the drain job runs on the RQ job queue, not {type(jobs).__name__}")
    done = drain_inbox(jobs.inbox, int(slot), token, wiring().offers.route, _pool(), DRAIN_BUDGET)
    successor = secrets.token_hex(8)
    jobs.start_drainer(jobs.inbox.hand_over(int(slot), token, successor), successor)
    return done


def drain_inbox(
    inbox: RouteInbox,
    slot: int,
    token: str,
    route_one: Callable[[str], object],
    pool: ThreadPoolExecutor,
    budget: float,
) -> int:
    """Keep `pool` busy with routes taken from the inbox until it is empty, the slot is
    lost, or `budget` seconds have passed; then wait for the routes in flight."""
    width = pool._max_workers  # the pool's size is the concurrency
    deadline = time.monotonic() + budget
    running: set[Future[None]] = set()
    taking, done = True, 0
    while True:
        free = width - len(running)
        if taking and free > 0:
            ids = inbox.take(slot, token, free) if time.monotonic() < deadline else None
            if not ids:
                taking = False
            else:
                running |= {pool.submit(_route_safely, route_one, i) for i in ids}
        if not running:
            return done
        finished, running = wait(running, return_when=FIRST_COMPLETED)
        done += len(finished)


def _route_safely(route_one: Callable[[str], object], request_id: str) -> None:
    """One route; a failure is logged and left to the sweeper (the request stays QUEUED)."""
    try:
        route_one(request_id)
    except Exception:
        log.exception("request %s: routing failed; the sweeper will try again", request_id)


@functools.lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=wiring().settings.route_concurrency, thread_name_prefix="route")
