"""Scripted people on the phones, keyed by phone number.

A script says how a phone answers and what its owner presses or says at each
<Gather>. Every call gets a fresh copy of the inputs, so a liaison who "presses 1"
does so on every offer, and an officer's script plays out once per call.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from simulator.behaviour import DrawError, Draws, validate_draw

ANSWER_MODES = ("after", "never", "busy", "failed")


class PartyError(ValueError):
    """A script the control API refuses, with the reason."""


def validate_input(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise PartyError(f"input must be an object, got {item!r}")
    if "digits" in item:
        digits = str(item["digits"])
        if not all(ch in "0123456789*#wW" for ch in digits):
            raise PartyError(f"digits may hold 0-9 * # w W only: {digits!r}")
        out: dict[str, Any] = {"digits": digits}
        for timing in ("after", "pause"):  # see Interpreter._gather: barge-in, or a pause after the prompt
            if item.get(timing) is not None:
                try:
                    out[timing] = float(item[timing])
                except (TypeError, ValueError):
                    raise PartyError(f"{timing} must be a number of seconds") from None
                if out[timing] < 0:
                    raise PartyError(f"{timing} must not be negative")
        return out
    if "speech" in item:
        confidence = float(item.get("confidence", 0.9))
        if not 0.0 <= confidence <= 1.0:
            raise PartyError("confidence must be between 0 and 1")
        return {"speech": str(item["speech"]), "confidence": confidence}
    if item.get("silence"):
        return {"silence": True}
    raise PartyError(f"input needs digits, speech or silence: {item!r}")


def validate_party(spec: Any, default_answer_after: float = 1.0) -> dict[str, Any]:
    """Normalise one party script; raise PartyError on anything malformed."""
    if not isinstance(spec, dict):
        raise PartyError("a party must be an object")
    answer = spec.get("answer", "after")
    if answer not in ANSWER_MODES:
        raise PartyError(f"answer must be one of {', '.join(ANSWER_MODES)}")
    out: dict[str, Any] = {"answer": answer}
    try:
        out["answer_after"] = float(spec.get("answer_after", default_answer_after))
        hangup = spec.get("hangup_after")
        out["hangup_after"] = None if hangup is None else float(hangup)
    except (TypeError, ValueError):
        raise PartyError("answer_after and hangup_after must be numbers (hangup_after may be null)") from None
    if out["answer_after"] < 0 or (out["hangup_after"] is not None and out["hangup_after"] < 0):
        raise PartyError("durations must not be negative")
    inputs = spec.get("inputs", [])
    if not isinstance(inputs, list):
        raise PartyError("inputs must be a list")
    out["inputs"] = [validate_input(i) for i in inputs]
    expect = spec.get("expect_send_digits")
    out["expect_send_digits"] = None if expect in (None, "") else str(expect)
    if spec.get("draw") is not None:
        try:
            out["draw"] = validate_draw(spec["draw"])
        except DrawError as exc:
            raise PartyError(f"draw: {exc}") from None
    return out


@dataclass
class PartyRun:
    """One party on one call: its script plus what happened to it on this call."""

    number: str
    answer: str = "after"
    answer_after: float = 1.0
    hangup_after: float | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    expect_send_digits: str | None = None
    staffed_after: float | None = None  # a vendor line: its interpreter is on this long after the DTMF
    received_digits: str = ""
    digits_matched: bool | None = None

    def next_input(self) -> dict[str, Any]:
        """The reply to the next <Gather>; silence once the script runs out."""
        return self.inputs.pop(0) if self.inputs else {"silence": True}

    def receive_dtmf(self, keys: str) -> bool:
        """Record keys heard; False when they stray from what this party expects."""
        self.received_digits += keys
        if self.expect_send_digits is None:
            return True
        if self.received_digits == self.expect_send_digits:
            self.digits_matched = True
            return True
        if self.expect_send_digits.startswith(self.received_digits):
            return True
        self.digits_matched = False
        return False

    def finish(self) -> None:
        """At hang-up, an expectation never completed counts as a mismatch."""
        if self.expect_send_digits is not None and self.digits_matched is None:
            self.digits_matched = False


class PartyBook:
    """The scripts by number, plus the default for numbers nobody scripted."""

    def __init__(self, default_answer_after: float):
        self._lock = threading.Lock()
        self._scripts: dict[str, dict[str, Any]] = {}
        self.default_answer_after = default_answer_after
        self.draws = Draws()

    def merge(self, scripts: dict[str, Any]) -> int:
        if not isinstance(scripts, dict):
            raise PartyError("expected an object of number → party")
        checked = {str(n): validate_party(s, self.default_answer_after) for n, s in scripts.items()}
        with self._lock:
            self._scripts.update(checked)
            return len(self._scripts)

    def all(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._scripts)

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()
        self.draws.clear()

    def run_for(self, number: str, **overrides: Any) -> PartyRun:
        """A fresh per-call copy of `number`'s script (or the default), with overrides."""
        with self._lock:
            script = copy.deepcopy(self._scripts.get(number)) or validate_party({}, self.default_answer_after)
        if script.get("draw"):
            drawn = self.draws.script(number, script["draw"])
            script.update(drawn)
        for key, value in overrides.items():
            if key == "inputs" and value is not None:
                script["inputs"] = [validate_input(i) for i in value]
            elif key == "hangup_after":
                script["hangup_after"] = None if value is None else float(value)
        return PartyRun(
            number=number,
            answer=script["answer"],
            answer_after=script["answer_after"],
            hangup_after=script["hangup_after"],
            inputs=script["inputs"],
            expect_send_digits=script["expect_send_digits"],
            staffed_after=script.get("staffed_after"),
        )
