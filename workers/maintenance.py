"""Periodic jobs: the sweeper that bounds every waiting state (and the audit log's age),
and the reconciler."""

from __future__ import annotations

from dispatch.reconcile import Reconciler
from workers.runtime import context, dispatcher


def sweep() -> int:
    """Review overdue requests and free stuck liaisons; returns how many were due.

    Also drops audit entries past AUDIT_RETENTION_SECONDS (two XTRIMs that find nothing
    to do on almost every sweep)."""
    due = dispatcher().sweep()
    context().audit.trim()
    return due


def reconcile() -> int:
    """Ask the phone network about long-connected and long-waiting requests; close what has
    ended (their final callbacks lost). Returns how many were closed."""
    return Reconciler(context()).run()
