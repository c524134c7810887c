"""Periodic jobs: the sweeper that bounds every waiting state, and the audit log's age."""
from __future__ import annotations

from workers.runtime import context, dispatcher


def sweep() -> int:
    """Review overdue requests and free stuck liaisons; returns how many were due.

    Also drops audit entries past AUDIT_RETENTION_SECONDS (two XTRIMs that find nothing
    to do on almost every sweep)."""
    due = dispatcher().sweep()
    context().audit.trim()
    return due
