"""Texts to supervisors about their texted request (voice callers hear it instead).

The wording lives in dispatch/sms/replies.py and the sending in
dispatch.sms.service.send_notice; these are the thin job wrappers.
"""

from __future__ import annotations

from dispatch.records import RequestRecord
from dispatch.sms.service import send_notice
from workers.runtime import context


def on_failed(rec: RequestRecord) -> None:
    """Hook for Dispatcher: a texted request failed → queue the text."""
    if rec is not None and rec.channel == "sms":
        context().jobs.submit("notify", rec.id, "failed")


def notify(request_id: str, what: str) -> None:
    """Send one of the notices ("connecting", "failed") to the supervisor who texted the request."""
    send_notice(context(), request_id, what)
