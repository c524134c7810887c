"""A job that does nothing but finish, enqueued by tests/test_sentinel_failover.py to count
what happens to RQ jobs queued around a failover (finished, failed, or lost with the master)."""

from __future__ import annotations


def probe(n: int) -> int:
    return n
