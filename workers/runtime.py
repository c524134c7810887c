"""The worker process's wiring (bootstrap.py), built once per process and used by every job.

Jobs run in the worker's own process (RQ's SimpleWorker), so the roster, the catalog and the
connections are built once, not per job. Tests `use` the wiring they built, with fakes for the
ports, and then run the very job functions RQ would.
"""

from __future__ import annotations

import threading

from bootstrap import Wiring, bootstrap

_lock = threading.Lock()
_wiring: Wiring | None = None


def wiring() -> Wiring:
    """This process's wiring, built from the environment the first time it is asked for."""
    global _wiring
    with _lock:
        if _wiring is None:
            _wiring = bootstrap()
        return _wiring


def use(built: Wiring | None) -> None:
    """Run jobs with `built` from now on (None: build from the environment again when asked)."""
    global _wiring
    with _lock:
        _wiring = built
