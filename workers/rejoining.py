"""Jobs for a dropped officer's rejoin (dispatch/rejoin.py): each places or moves a call,
which a webhook never does itself."""

from __future__ import annotations

from workers.runtime import wiring


def dropped(request_id: str, token: str) -> None:
    """Remember the dropped officer's number (hashed) and move the interpreter to the prompt."""
    wiring().rejoin_wait.dropped(request_id, token)


def call_back(request_id: str, recall: str) -> None:
    """Ring the dropped officer back (once per press of 1)."""
    wiring().rejoin_wait.call_back(request_id, recall)


def redirect(request_id: str, token: str, why: str) -> None:
    """Move the interpreter to the prompt (call-back failed) or into the room (officer back)."""
    wiring().rejoin_wait.redirect(request_id, token, why)
