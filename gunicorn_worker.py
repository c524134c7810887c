"""The gunicorn worker the Procfile runs (`--worker-class gunicorn_worker.ThreadWorker`):
gunicorn's threaded worker, which also ends the dashboard's event streams as soon as it is
told to stop.

An event stream holds its thread for minutes. Told to stop, gunicorn's worker waits for its
open requests up to the graceful timeout, and Python then waits for the threads again on its
way out: stream threads kept a stopping worker alive and listening past its timeout, until
the master (or `make run`) killed it. Ending the streams at once lets the worker exit as soon
as its other requests are answered; the pages reconnect to a process that is still up.

A top-level module, not in webhooks/: gunicorn's master imports the worker class, and
importing webhooks/ there would load the whole app into the master.
"""

from __future__ import annotations

import sys
from types import FrameType

from gunicorn.workers.gthread import ThreadWorker as GThreadWorker


def end_streams() -> None:
    """End this process's dashboard streams, if the app serves any (its module is loaded)."""
    broadcast = sys.modules.get("webhooks.dashboard.broadcast")
    if broadcast is not None:
        broadcast.end_streams()


class ThreadWorker(GThreadWorker):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """SIGTERM: the graceful stop (gunicorn's master passes its own SIGTERM on)."""
        super().handle_exit(sig, frame)
        end_streams()

    def handle_quit(self, sig: int, frame: FrameType | None) -> None:
        """SIGINT, SIGQUIT: the quick stop (gunicorn exits from the handler itself)."""
        end_streams()
        super().handle_quit(sig, frame)
