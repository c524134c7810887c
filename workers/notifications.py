"""Texts to supervisors about their texted request (voice callers hear it instead), and the
service's own texts to liaisons (missed offers, reminders, call-outs)."""

from __future__ import annotations

from dispatch.sms.notices import send_notice
from dispatch.sms.to_liaisons import send_to_liaison
from workers.runtime import wiring


def notify(request_id: str, what: str) -> None:
    """Send one of the notices ("connecting", "failed") to the supervisor who texted the request."""
    send_notice(wiring().ctx, request_id, what)


def text_liaison(liaison_id: str, body: str) -> None:
    """Send a liaison one of the service's texts (dispatch.sms.to_liaisons)."""
    send_to_liaison(wiring().ctx, liaison_id, body)
