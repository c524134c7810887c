"""A steady trickle of simulated inbound calls, for the local demo."""

from __future__ import annotations

import random
import sys
import threading
from typing import Any

from simulator.client import SimulatorClient


def trickle(
    client: SimulatorClient,
    callers: list[str],
    to: str,
    scripts: list[list[dict[str, Any]]],
    every: float,
    stop_event: threading.Event,
    seed: int = 7,
    hangup_after: tuple[float, float] | None = (90.0, 150.0),
) -> int:
    """Place one call every `every` seconds until `stop_event` is set; return how many were placed.

    Callers rotate in order; each call's inputs are a script chosen by a seeded random
    generator, so a demo run is reproducible. `hangup_after` draws how long each caller
    stays on the line (None: until the app ends the call). A simulator that is briefly
    unreachable is reported and retried at the next tick, never fatal.
    """
    if not callers or not scripts:
        raise ValueError("trickle needs at least one caller and one script")
    rng = random.Random(seed)
    placed = 0
    while not stop_event.is_set():
        caller = callers[placed % len(callers)]
        script = rng.choice(scripts)
        stay = rng.uniform(*hangup_after) if hangup_after else None
        try:
            client.place_call(caller, to, inputs=script, hangup_after=stay)
            placed += 1
        except Exception as exc:  # keep the demo going
            print(f"trickle: could not place a call: {exc}", file=sys.stderr)
        if stop_event.wait(every):
            break
    return placed
