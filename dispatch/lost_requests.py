"""An officer holding for a request that Redis does not have: put through to the vendor.

With Sentinel, replication to the replicas is asynchronous: a failover may drop the last
writes the old master acknowledged (at most `min-replicas-max-lag` seconds of them, README,
Deployment). A request opened in that moment is gone while its officer still waits in the
conference: no route, no deadline, no sweeper would ever act on it, and the hold loop would
play silence for good. The hold webhook notices (its request id finds nothing) and asks for
the call to be moved to the direct vendor dial, in the language the officer chose, once.
"""

from __future__ import annotations

from dispatch import urls as paths
from dispatch.context import Context

ONCE_FOR = 3600  # seconds: one move per call, whatever the hold loop asks meanwhile


def put_through_once(c: Context, call_sid: str, language: str) -> bool:
    """Ask a worker to move `call_sid` to the vendor, unless that was asked already; whether asked."""
    if not call_sid or not c.deliveries.first("request-lost", call_sid, ttl=ONCE_FOR):
        return False
    c.jobs.submit("to_vendor_directly", call_sid, language)
    return True


def put_through(c: Context, call_sid: str, language: str) -> bool:
    """Redirect the call to the direct vendor dial (False: the call has ended)."""
    return c.telephony.redirect(call_sid, c.urls(paths.FALLBACK, step="lost", language=language))
