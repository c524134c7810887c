"""Many tallies stored and summed as columns: the coverage caches' encoding.

A year city-wide is some 18,000 precinct × language tallies, and summing it from month caches
merges a hundred thousand of them: as Python objects that is seconds, as flat lists of ints
decoded by the C JSON parser and added slice by slice it is a fraction of that.

The encoding: `[names, flat, unmet]`: the "precinct|language" names, every tally's ints in one
flat list (counts, interpreter seconds per outcome, then the buckets), and the unmet hours as
(name index, hour of week, count) triples.
"""

from __future__ import annotations

import json
import operator

from dispatch.coverage_cells import BUCKETS, OUTCOMES, Tallies, Tally

_O = len(OUTCOMES)
WIDTH = 2 * _O + BUCKETS


def encode(tallies: Tallies) -> str:
    names: list[str] = []
    flat: list[int] = []
    unmet: list[int] = []
    for i, ((precinct, language), t) in enumerate(tallies.items()):
        names.append(f"{precinct}|{language}")
        flat += t.counts
        flat += t.seconds
        flat += t.buckets
        for slot, n in t.unmet.items():
            unmet += (i, slot, n)
    return json.dumps([names, flat, unmet], separators=(",", ":"))


def decode(blob: bytes | str) -> Tallies:
    columns = Columns()
    columns.add(blob)
    return columns.tallies()


class Columns:
    """Sums of encoded tallies, kept as columns until they are wanted as tallies."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.flat: list[int] = []
        self.unmet: list[dict[int, int]] = []

    def add(self, blob: bytes | str) -> None:
        names, flat, unmet = json.loads(blob)
        at: list[int] = []
        mine = self.flat
        for j, name in enumerate(names):
            b = j * WIDTH
            i = self.index.get(name)
            if i is None:
                i = self.index[name] = len(self.unmet)
                mine += flat[b : b + WIDTH]
                self.unmet.append({})
            else:
                a = i * WIDTH
                mine[a : a + WIDTH] = map(operator.add, mine[a : a + WIDTH], flat[b : b + WIDTH])
            at.append(i)
        triples = iter(unmet)
        for j, slot, n in zip(triples, triples, triples, strict=True):
            hours = self.unmet[at[j]]
            hours[slot] = hours.get(slot, 0) + n

    def tallies(self) -> Tallies:
        out: Tallies = {}
        flat = self.flat
        for name, i in self.index.items():
            precinct, _, language = name.partition("|")
            a = i * WIDTH
            out[(precinct, language)] = Tally(
                flat[a : a + _O], flat[a + _O : a + 2 * _O], flat[a + 2 * _O : a + WIDTH], self.unmet[i]
            )
        return out
