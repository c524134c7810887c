"""Periodic jobs, declared in one place (redash's schedule.py shape)."""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings


@dataclass(frozen=True)
class Periodic:
    task: str  # a name in adapters.rq_jobs.TASKS
    every: float  # seconds


# Bookings' reminders are due a day and an hour ahead: looking twice a minute sends each on time
# to the minute, and a worker that was down sends what came due meanwhile when it is back.
REMIND_BOOKINGS_EVERY = 30.0


def periodic_jobs(settings: Settings) -> list[Periodic]:
    return [
        Periodic("sweep", settings.sweep_interval),
        Periodic("reconcile", settings.reconcile_seconds),
        Periodic("remind_bookings", REMIND_BOOKINGS_EVERY),
    ]
