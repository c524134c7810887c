"""Jobs for texted requests: ring the supervisor back."""

from __future__ import annotations

from dispatch.sms.service import place_callback
from workers.runtime import context


def call_back(request_id: str) -> None:
    """Place the call back for a NEW texted request (no-op if it moved on or was already placed)."""
    place_callback(context(), request_id)
