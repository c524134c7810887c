"""Texts to supervisors about their texted request (voice callers hear it instead)."""

from __future__ import annotations

from dispatch.sms.notices import send_notice
from workers.runtime import wiring


def notify(request_id: str, what: str) -> None:
    """Send one of the notices ("connecting", "failed") to the supervisor who texted the request."""
    send_notice(wiring().ctx, request_id, what)
