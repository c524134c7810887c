"""Periodic jobs, declared in one place (redash's schedule.py shape)."""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings


@dataclass(frozen=True)
class Periodic:
    task: str  # a name in workers.jobqueue.TASKS
    every: float  # seconds


def periodic_jobs(settings: Settings) -> list[Periodic]:
    return [Periodic("sweep", settings.sweep_interval), Periodic("reconcile", settings.reconcile_seconds)]
