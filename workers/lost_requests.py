"""The job that puts an officer whose request was lost through to the vendor (dispatch/lost_requests.py)."""

from __future__ import annotations

import logging

from dispatch import lost_requests
from workers.runtime import wiring

log = logging.getLogger("workers.lost_requests")


def to_vendor_directly(call_sid: str, language: str) -> None:
    """Refused by the network, it raises and RQ tries again (adapters/rq_jobs.py redirect_retry)."""
    if not lost_requests.put_through(wiring().ctx, call_sid, language):
        log.info("call %s ended before it could be put through to the vendor", call_sid[:10])
