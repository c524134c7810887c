"""The gunicorn worker the Procfile runs (`--worker-class gunicorn_worker.ThreadWorker`):
gunicorn's threaded worker, which also ends the dashboard's event streams as soon as it is
told to stop.

An event stream holds its thread for minutes. Told to stop, gunicorn's worker waits for its
open requests up to the graceful timeout, and Python then waits for the threads again on its
way out: stream threads kept a stopping worker alive and listening past its timeout, until
the master (or `make run`) killed it. Ending the streams at once lets the worker exit as soon
as its other requests are answered; the pages reconnect to a process that is still up.

It also closes a finished connection off the worker's event loop. Since gunicorn 26 the
threaded worker closes a connection it will not keep alive (the client asked to close, or it
left a body unread, e.g. a 413) "gracefully" on its one event-loop thread: it sends its FIN and
waits up to 2 s for the client's. A client that never closes stalls every request of the worker
for those 2 s, so a stranger sending `Connection: close` requests and holding the sockets open
stopped all webhooks (5 such requests: 10 s). The wait now happens in a few closer threads;
when they are all busy the connection is closed at once (tests/test_attacks_slow_close.py).

A top-level module, not in webhooks/: gunicorn's master imports the worker class, and
importing webhooks/ there would load the whole app into the master.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import Future
from types import FrameType

from gunicorn import util
from gunicorn.workers.gthread import TConn
from gunicorn.workers.gthread import ThreadWorker as GThreadWorker

LINGERING_CLOSES = 16  # connections waiting for their client's FIN at once; more are closed at once


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

    def finish_request(self, conn: TConn, fs: Future[object]) -> None:
        """A connection not kept alive is closed off the event loop; the rest as gunicorn does.

        Overrides gunicorn's method (it runs on the event loop) because its graceful close
        blocks that loop for up to 2 s per client that does not close (module docstring)."""
        if fs.cancelled() or fs.exception() is not None or fs.result() is not False:
            super().finish_request(conn, fs)
            return
        self.nr_conns -= 1
        close_off_the_loop(conn)


_closers = threading.BoundedSemaphore(LINGERING_CLOSES)


def close_off_the_loop(conn: TConn) -> None:
    """Close `conn` gracefully in a thread of its own, or at once when enough are lingering."""
    if not _closers.acquire(blocking=False):
        util.close(conn.sock)
        return

    def linger() -> None:
        try:
            conn.close(graceful=True)
        finally:
            _closers.release()

    threading.Thread(target=linger, name="close-connection", daemon=True).start()
