"""What the officer's report needs that the call itself does not tell: the incident number and
the interpreter's own ID number, keyed by the officer, texted by the supervisor, or added or
corrected by a sergeant on the receipt.

Both are short tokens of letters, digits and dashes, checked here for every channel: a value
that does not fit is answered with what is expected and nothing is stored. They live on the
request record, so they expire with it; a change is kept in the request's history with the old
value (which expires with the record too), and the audit log (kept a year) records who changed
which request's field, never the values.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from dispatch import events
from dispatch.context import Service

log = logging.getLogger("dispatch.report")

MAX_LENGTH = 20
_TOKEN = re.compile(rf"[A-Za-z0-9-]{{1,{MAX_LENGTH}}}")


class Fact(StrEnum):
    INCIDENT = "incident"  # the incident or complaint number
    INTERPRETER_ID = "interpreter_id"  # the interpreter's ID number


# The record's field for each (dispatch/records.py).
FIELD = {Fact.INCIDENT: "incident", Fact.INTERPRETER_ID: "interpreter_ref"}
EXPECTED = f"letters, digits and dashes, at most {MAX_LENGTH}"


def read_token(text: str | None) -> str | None:
    """An incident number or interpreter ID as stored (upper case), or None when `text` is not
    one: letters, digits and dashes, 1 to MAX_LENGTH, at least one letter or digit."""
    value = (text or "").strip()
    if not _TOKEN.fullmatch(value) or not any(ch.isalnum() for ch in value):
        return None
    return value.upper()


class Saved(StrEnum):
    SAVED = "saved"
    UNCHANGED = "unchanged"
    INVALID = "invalid"  # not letters, digits and dashes: nothing stored
    GONE = "gone"  # no such request (expired)


@dataclass(frozen=True)
class Outcome:
    saved: Saved
    value: str = ""  # as stored
    old: str = ""


@dataclass(eq=False)
class ReportFacts(Service):
    def record(self, request_id: str, fact: Fact, text: str, by: str) -> Outcome:
        """Store `fact` on the request (a correction replaces the old value, which the
        request's history keeps); audited as done by `by` (a username, a supervisor's id,
        "officer")."""
        value = read_token(text)
        if value is None:
            return Outcome(Saved.INVALID)
        rec = self.store.get(request_id)
        if rec is None:
            return Outcome(Saved.GONE)
        old = rec.incident if fact == Fact.INCIDENT else rec.interpreter_ref
        if old == value:
            return Outcome(Saved.UNCHANGED, value, old)
        written = self.store.annotate(
            request_id,
            f"{fact.value}_set",
            {FIELD[fact]: value},
            data={"by": by, "old": old, "new": value},
            published={"by": by, "field": fact.value},
        )
        if not written:
            return Outcome(Saved.GONE)
        outcome = "done, replacing an earlier value" if old else "done"
        events.audit(self.ctx.redis, by, f"set_{fact.value}", request_id, outcome)
        log.info("request %s: %s %s by %s", request_id, fact.value, "corrected" if old else "recorded", by)
        return Outcome(Saved.SAVED, value, old)
