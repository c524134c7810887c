"""Jobs that move requests: offer to a liaison or dial the vendor."""
from __future__ import annotations

from workers.runtime import dispatcher


def route(request_id: str) -> None:
    """Route one queued request (no-op if it has moved on meanwhile)."""
    dispatcher().route(request_id)
