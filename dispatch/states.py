"""The request state machine of DESIGN.md, as data.

A transition names the states it applies to; anything else (a late or duplicate
callback) is refused and changes nothing. The table is the single source of truth
for both the store's atomic check and the tests that walk every pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    NEW = "new"  # created; the caller is not in the conference yet (SMS call-back)
    QUEUED = "queued"  # caller waiting, no interpreter ringing
    OFFERING = "offering"  # a liaison's phone is ringing for it
    VENDOR_DIALING = "vendor_dialing"  # the vendor bridge is being dialled
    CONNECTED = "connected"  # an interpreter is in the conference
    REJOINING = "rejoining"  # the officer's leg dropped; the interpreter waits (rejoin.py)
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"
    FAILED = "failed"


WAITING = frozenset({State.NEW, State.QUEUED, State.OFFERING, State.VENDOR_DIALING})
TERMINAL = frozenset({State.COMPLETED, State.CANCELLED, State.ABANDONED, State.FAILED})
ON_THE_LINE = frozenset({State.CONNECTED, State.REJOINING})  # an interpreter's leg is ours: they stay "on a call"


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[State]
    target: State


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("queue", frozenset({State.NEW}), State.QUEUED),
        Transition("offer", frozenset({State.QUEUED}), State.OFFERING),
        Transition("offer_ended", frozenset({State.OFFERING}), State.QUEUED),
        Transition("liaison_connected", frozenset({State.OFFERING}), State.CONNECTED),
        Transition("vendor_dial", frozenset({State.QUEUED, State.OFFERING}), State.VENDOR_DIALING),
        Transition("vendor_retry", frozenset({State.VENDOR_DIALING}), State.VENDOR_DIALING),
        Transition("vendor_connected", frozenset({State.VENDOR_DIALING, State.OFFERING}), State.CONNECTED),
        # VENDOR_HEDGE_AFTER (dispatch/vendor_hedge.py): the vendor dialled while liaisons still ring,
        # and that dial failing (the liaisons ring on; the window's end dials the vendor again).
        Transition("vendor_hedge", frozenset({State.OFFERING}), State.OFFERING),
        Transition("hedge_failed", frozenset({State.OFFERING}), State.OFFERING),
        Transition("complete", ON_THE_LINE, State.COMPLETED),
        # A dropped officer (dispatch/rejoin.py): the interpreter waits within RECONNECT_GRACE while the
        # officer is called back or calls in again. A call-back is one at a time ("recall" is its token).
        Transition("officer_dropped", frozenset({State.CONNECTED}), State.REJOINING),
        Transition("call_officer_back", frozenset({State.REJOINING}), State.REJOINING),
        Transition("call_back_failed", frozenset({State.REJOINING}), State.REJOINING),
        Transition("officer_rejoined", frozenset({State.REJOINING}), State.CONNECTED),
        Transition("rejoin_expired", frozenset({State.REJOINING}), State.COMPLETED),
        Transition("cancel", WAITING, State.CANCELLED),
        Transition("abandon", WAITING, State.ABANDONED),
        Transition("fail", WAITING, State.FAILED),
        # The reconciler closing what the phone network says has ended, its callbacks lost
        # (dispatch/reconcile.py): named apart so the history shows it was not a callback.
        Transition("reconcile_complete", frozenset({State.CONNECTED}), State.COMPLETED),
        Transition("reconcile_abandon", frozenset({State.OFFERING, State.VENDOR_DIALING}), State.ABANDONED),
    )
}


def transition(name: str) -> Transition:
    """Look a transition up by name; an unknown name is a programming error."""
    return TRANSITIONS[name]


def allowed(name: str, state: State) -> bool:
    return state in TRANSITIONS[name].sources
