"""Jobs for texted requests: ring the supervisor back."""

from __future__ import annotations

from workers.runtime import wiring


def call_back(request_id: str) -> None:
    """Place the call back for a NEW texted request (no-op if it moved on or was already placed)."""
    wiring().call_backs.place(request_id)
