"""Periodic jobs: the sweeper that bounds every waiting state."""
from __future__ import annotations

from workers.runtime import dispatcher


def sweep() -> int:
    """Review overdue requests and free stuck liaisons; returns how many were due."""
    return dispatcher().sweep()
