"""The background-job port: the domain asks for work to happen later, by name.

Workers implement it with RQ; tests may run tasks inline. Task names are the keys
of workers.tasks.TASKS.
"""
from __future__ import annotations

from typing import Protocol


class Jobs(Protocol):
    def submit(self, task: str, *args: str) -> None:
        """Run `task(*args)` soon, on some worker."""
