"""The field model of bench/bench_time_to_interpreter.py: who calls, who answers, and how long
each of them takes, in model seconds (a real deployment's clock); and, after a run, each
request's wait from the officer's first ring to an interpreter on the line, split by phase.

Not a benchmark itself. Every distribution is stated here and drawn from seeded generators
(the officers' in this process, the interpreters' in the simulator, simulator/behaviour.py),
so a run repeats up to the timing of the processes themselves.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROSTER = Path(__file__).resolve().parent / "data" / "roster.field.yaml"

# (language, weight %): languages some roster liaison speaks, then two nobody does (the vendor).
LANGUAGE_MIX = [
    ("spa", 55),
    ("cmn", 14),
    ("yue", 4),
    ("rus", 8),
    ("ben", 5),
    ("hat", 4),
    ("por", 2),
    ("ara", 4),
    ("kor", 4),
]


@dataclass(frozen=True)
class Model:
    """The parties' distributions (model seconds; `[low, high]` is uniform)."""

    rate_per_hour: float = 180.0  # Poisson arrivals of officers' calls
    knows_code: float = 0.6  # officers who type the code as soon as the menu speaks ...
    barge_after: tuple[float, float] = (0.5, 1.5)  # ... this long into the prompt
    lookup_pause: tuple[float, float] = (1.0, 3.0)  # the others wait for the prompt, then look the code up
    confirm_pause: tuple[float, float] = (0.5, 1.5)  # pressing 1 at the read-back
    liaison_no_answer: float = 0.3
    liaison_answer_after: tuple[float, float] = (3.0, 15.0)
    liaison_decline: float = 0.1  # of the liaisons who answer
    liaison_key_after: tuple[float, float] = (1.0, 4.0)  # after the whisper ends
    liaison_talk: tuple[float, float] = (60.0, 180.0)  # from answering to hanging up
    vendor_answer_after: float = 2.0
    vendor_staffed_after: tuple[float, float] = (15.0, 40.0)  # the vendor's interpreter, after the DTMF
    vendor_talk: tuple[float, float] = (100.0, 220.0)  # from answering to hanging up
    officer_stays: float = 600.0  # an officer's call lasts at most this

    def describe(self) -> list[str]:
        return [
            f"arrivals: Poisson, {self.rate_per_hour:g} requests/hour; languages "
            + ", ".join(f"{lang} {w}%" for lang, w in LANGUAGE_MIX),
            (
                f"officers: {self.knows_code:.0%} type the code {_r(self.barge_after)} s into the menu's first "
                f"prompt; the rest wait for the prompt and take {_r(self.lookup_pause)} s; the read-back is "
                f"answered {_r(self.confirm_pause)} s after it (or into it, by those who know the code)"
            ),
            (
                f"liaisons: {self.liaison_no_answer:.0%} do not answer; the rest answer in "
                f"{_r(self.liaison_answer_after)} s, press a key {_r(self.liaison_key_after)} s after the whisper, "
                f"{self.liaison_decline:.0%} of them decline; a call lasts {_r(self.liaison_talk)} s"
            ),
            (
                f"vendor: answers in {self.vendor_answer_after:g} s; its interpreter is on the line "
                f"{_r(self.vendor_staffed_after)} s after the DTMF; a call lasts {_r(self.vendor_talk)} s"
            ),
        ]


def _r(pair: tuple[float, float]) -> str:
    return f"{pair[0]:g}-{pair[1]:g}"


def _scaled(pair: tuple[float, float], k: float) -> list[float]:
    return [pair[0] / k, pair[1] / k]


def parties(model: Model, liaison_phones: Iterable[str], vendor_numbers: Iterable[str], k: float, seed: int) -> dict:
    """The simulator's scripts for the interpreters' phones, people's times divided by `k`."""
    liaison = {
        "draw": {
            "seed": seed,
            "no_answer": model.liaison_no_answer,
            "answer_after": _scaled(model.liaison_answer_after, k),
            "decline": model.liaison_decline,
            "key_after": _scaled(model.liaison_key_after, k),
            "hangup_after": _scaled(model.liaison_talk, k),
        }
    }
    vendor = {
        "draw": {
            "seed": seed,
            "answer_after": model.vendor_answer_after / k,
            "staffed_after": _scaled(model.vendor_staffed_after, k),
            "hangup_after": _scaled(model.vendor_talk, k),
        }
    }
    out: dict[str, Any] = dict.fromkeys(liaison_phones, liaison)
    out.update({number: vendor for number in vendor_numbers if number})
    return out


@dataclass(frozen=True)
class Arrival:
    at: float  # model seconds from the start
    line: str  # the precinct line the officer calls from
    language: str
    inputs: list[dict[str, Any]]


def arrivals(model: Model, lines: list[str], codes: Mapping[str, str], minutes: float, k: float, seed: int):
    """The officers' calls: Poisson times, a language each, and the keys they press (people's
    times divided by `k`)."""
    rng = random.Random(seed)
    out: list[Arrival] = []
    t = 0.0
    weights = [w for _, w in LANGUAGE_MIX]
    while True:
        t += rng.expovariate(model.rate_per_hour / 3600.0)
        if t > minutes * 60:
            return out
        language = rng.choices([lang for lang, _ in LANGUAGE_MIX], weights)[0]
        code = codes[language] + "#"
        if rng.random() < model.knows_code:
            inputs = [
                {"digits": code, "after": rng.uniform(*model.barge_after) / k},
                {"digits": "1", "after": rng.uniform(*model.barge_after) / k},
            ]
        else:
            inputs = [
                {"digits": code, "pause": rng.uniform(*model.lookup_pause) / k},
                {"digits": "1", "pause": rng.uniform(*model.confirm_pause) / k},
            ]
        out.append(Arrival(t, lines[len(out) % len(lines)], language, inputs))


@dataclass
class Wait:
    """One request's wait, model seconds: first ring -> queued -> first interpreter call -> on the line."""

    request: str
    handler: str  # liaison | vendor | "" (never connected)
    ivr: float | None = None
    queue: float | None = None
    ring: float | None = None
    total: float | None = None
    liaison_rings: int = 0
    vendor_cut: int = 0  # vendor calls ended before their interpreter came on


@dataclass
class Outcome:
    waits: list[Wait] = field(default_factory=list)
    unconnected: int = 0
    vendor_calls: int = 0


def measure(records: list[Any], calls: list[dict], links: Mapping[str, str], liaison_phones: set[str], k: float):
    """Each request's wait from the simulator's calls (milestones on the epoch clock) and the
    service's records (stamped on the same clock), in model seconds (`k` x wall)."""
    by_sid = {c["sid"]: c for c in calls}
    legs: dict[str, list[dict]] = {}
    for call in calls:
        request = links.get(call["sid"])
        if request and call["direction"] == "outbound-api":
            legs.setdefault(request, []).append(call)
    out = Outcome()
    for rec in records:
        officer = by_sid.get(rec.officer_call)
        if officer is None or rec.queued_at is None:
            continue
        mine = legs.get(rec.id, [])
        wait = Wait(rec.id, rec.handler_kind)
        wait.liaison_rings = sum(1 for c in mine if c["to"] in liaison_phones)
        vendor = [c for c in mine if c["to"] not in liaison_phones]
        out.vendor_calls += len(vendor)
        for c in vendor:
            marks = c["marks"]
            staffed = marks.get("digits_sent", 0) + (c.get("staffed_after") or 0) if "digits_sent" in marks else None
            if "answered" in marks and "ended" in marks and (staffed is None or marks["ended"] < staffed):
                wait.vendor_cut += 1
        start = officer["marks"]["created"]
        first = min((c["marks"]["created"] for c in mine), default=None)
        on_line = None
        if rec.handler_kind == "liaison":
            on_line = rec.connected_at
        elif rec.handler_kind == "vendor":
            leg = by_sid.get(rec.handler_call)
            marks = leg["marks"] if leg else {}
            if "digits_sent" in marks and leg.get("staffed_after") is not None:
                staffed = marks["digits_sent"] + leg["staffed_after"]
                on_line = staffed if marks.get("ended", staffed + 1) >= staffed else None
        wait.ivr = (rec.queued_at - start) * k
        if first is not None:
            wait.queue = (first - rec.queued_at) * k
        if on_line is None or first is None:
            out.unconnected += 1
            wait.handler = ""
        else:
            wait.ring = (on_line - first) * k
            wait.total = (on_line - start) * k
        out.waits.append(wait)
    return out
