"""Periodic jobs: the sweeper that bounds every waiting state (and the audit log's age),
the reconciler, and the bookings' reminders."""

from __future__ import annotations

from workers.runtime import wiring


def sweep() -> int:
    """Review overdue requests and free stuck liaisons; returns how many were due.

    Also drops audit entries past AUDIT_RETENTION_SECONDS (two XTRIMs that find nothing
    to do on almost every sweep)."""
    due = wiring().sweeper.sweep()
    wiring().ctx.audit.trim()
    return due


def reconcile() -> int:
    """Ask the phone network about long-connected and long-waiting requests; close what has
    ended (their final callbacks lost). Returns how many were closed."""
    return wiring().reconciler.run()


def remind_bookings() -> int:
    """Text booked liaisons the day before and an hour before their event; how many were sent."""
    return wiring().liaison_time.bookings.send_reminders()
