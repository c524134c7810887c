"""The background-job port: the domain asks for work to happen later, by name.

Workers implement it with RQ; tests may run tasks inline. Task names are the keys
of workers.jobqueue.TASKS.
"""

from __future__ import annotations

from typing import Protocol


class Jobs(Protocol):
    def submit(self, task: str, *args: str) -> None:
        """Run `task(*args)` soon, on some worker."""

    def waiting_ids(self, task: str) -> set[str]:
        """The first argument of every `task` submitted and not yet started (request ids):
        the sweeper leaves those to run rather than doing the same work a second time."""
