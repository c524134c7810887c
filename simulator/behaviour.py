"""People drawn from distributions: a party whose every call is a fresh, seeded draw.

A fixed script (parties.py) makes a liaison answer after the same delay on every call; a
field model needs a different liaison each time: one who answers in 3–15 s, one who never
does, one who declines. A party script with a `draw` block is resolved into a fixed script
at each call, from a random generator seeded per number, so a run repeats:

    {"draw": {"seed": 7,
              "no_answer": 0.3,           # probability the phone is never answered
              "answer_after": [3, 15],    # seconds, uniform
              "decline": 0.1,             # of those who answer, probability they press `no` ...
              "yes": "1", "no": "2",      # ... the keys pressed for accept and decline
              "key_after": [1, 4],        # seconds after the prompt ends before the key
              "staffed_after": [15, 40],  # a vendor line: its interpreter comes on this long after the DTMF
              "hangup_after": 600}}

Every duration is a person's, on the wall clock (unscaled, as `answer_after`).
"""

from __future__ import annotations

import random
import threading
import zlib
from typing import Any

DRAW_KEYS = {"seed", "no_answer", "answer_after", "decline", "yes", "no", "key_after", "staffed_after", "hangup_after"}


class DrawError(ValueError):
    """A draw block the control API refuses, with the reason."""


def _range(spec: dict[str, Any], name: str) -> tuple[float, float] | None:
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, (int, float)):
        value = [value, value]
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)):
        raise DrawError(f"{name} must be a number or [low, high]")
    low, high = float(value[0]), float(value[1])
    if low < 0 or high < low:
        raise DrawError(f"{name} must be 0 <= low <= high")
    return low, high


def _probability(spec: dict[str, Any], name: str) -> float:
    value = spec.get(name, 0.0)
    if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise DrawError(f"{name} must be a probability between 0 and 1")
    return float(value)


def validate_draw(spec: Any) -> dict[str, Any]:
    """Normalise a draw block; raise DrawError on anything malformed."""
    if not isinstance(spec, dict):
        raise DrawError("draw must be an object")
    unknown = set(spec) - DRAW_KEYS
    if unknown:
        raise DrawError(f"unknown draw keys: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {
        "seed": int(spec.get("seed", 0)),
        "no_answer": _probability(spec, "no_answer"),
        "decline": _probability(spec, "decline"),
        "yes": str(spec.get("yes", "1")),
        "no": str(spec.get("no", "2")),
    }
    for name in ("answer_after", "key_after", "staffed_after", "hangup_after"):
        out[name] = _range(spec, name)
    return out


class Draws:
    """One seeded generator per number, so each party's sequence of calls repeats."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rngs: dict[str, random.Random] = {}

    def clear(self) -> None:
        with self._lock:
            self._rngs.clear()

    def script(self, number: str, draw: dict[str, Any]) -> dict[str, Any]:
        """The fields of a party script (parties.validate_party's shape) drawn for one call."""
        with self._lock:
            rng = self._rngs.get(number)
            if rng is None:
                rng = self._rngs[number] = random.Random(draw["seed"] * 1_000_003 + zlib.crc32(number.encode()))
            never = rng.random() < draw["no_answer"]
            answer_after = rng.uniform(*draw["answer_after"]) if draw["answer_after"] else 1.0
            declines = rng.random() < draw["decline"]
            key_after = rng.uniform(*draw["key_after"]) if draw["key_after"] else 0.0
            staffed = rng.uniform(*draw["staffed_after"]) if draw["staffed_after"] else None
            hangup = rng.uniform(*draw["hangup_after"]) if draw["hangup_after"] else None
        out: dict[str, Any] = {
            "answer": "never" if never else "after",
            "answer_after": answer_after,
            "inputs": [{"digits": draw["no"] if declines else draw["yes"], "pause": key_after}],
            "staffed_after": staffed,
        }
        if hangup is not None:  # else the script's own hangup_after
            out["hangup_after"] = hangup
        return out
