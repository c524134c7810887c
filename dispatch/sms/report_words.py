"""The words of a supervisor's text for the officer's report and the victim (issue 17):
`female` / `woman` / `F` or `male` / `man` / `M` for the interpreter asked for, `inc <number>`
for the incident number, and the command `ID R00012 4711` recording an interpreter's ID.

Pure functions over the text's tokens, called by parse.py before it looks for a callback
number (an incident number such as 2026-012345 would otherwise read as a phone number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dispatch.report_facts import read_token

GENDER_WORDS = {"female": "female", "woman": "female", "f": "female", "male": "male", "man": "male", "m": "male"}
INCIDENT_LEADS = frozenset({"inc", "inc#", "incident", "incident#"})
_REQUEST_ID = re.compile(r"^R\d{1,9}$", re.IGNORECASE)
_EDGE = ".,;:!?()'\""
SENTENCE_WORDS = 4  # from this many words on, a text is a sentence: its "man" or "woman" is no preference


@dataclass(frozen=True)
class ReportWords:
    gender: str = ""  # "female" | "male" | ""
    incident: str = ""  # as stored (upper case)
    incident_invalid: bool = False  # "inc" with no usable number after it: nothing is kept


def take_incident(tokens: list[str]) -> tuple[ReportWords, list[str]]:
    """`inc <number>` anywhere in the text; the tokens left."""
    incident, invalid, left = "", False, []
    i = 0
    while i < len(tokens):
        if tokens[i].strip(_EDGE).casefold() in INCIDENT_LEADS:
            value = read_token(tokens[i + 1].strip(_EDGE)) if i + 1 < len(tokens) else None
            if value is None:
                invalid = True
            else:
                incident = value
            i += 2
            continue
        left.append(tokens[i])
        i += 1
    return ReportWords(incident=incident, incident_invalid=invalid), left


def take_gender(words: ReportWords, tokens: list[str]) -> tuple[ReportWords, list[str]]:
    """A preference word among the language's words, unless they are a sentence (the resident's
    own words, a forwarded message): there "man" is no request for a male interpreter."""
    found = [t for t in tokens if t.strip(_EDGE).casefold() in GENDER_WORDS]
    left = [t for t in tokens if t.strip(_EDGE).casefold() not in GENDER_WORDS]
    if not found or len(left) >= SENTENCE_WORDS:
        return words, tokens
    gender = GENDER_WORDS[found[0].strip(_EDGE).casefold()]
    return ReportWords(gender, words.incident, words.incident_invalid), left


def interpreter_id_command(tokens: list[str]) -> tuple[str, ...] | None:
    """`ID R00012 4711` → ("R00012", "4711"); ("R00012", "") when the ID is missing or not
    letters, digits and dashes; None when the text is not this command."""
    if len(tokens) < 2 or tokens[0].strip(_EDGE).casefold() != "id" or not _REQUEST_ID.match(tokens[1].strip(_EDGE)):
        return None
    value = read_token(tokens[2].strip(_EDGE)) if len(tokens) == 3 else None
    return tokens[1].strip(_EDGE).upper(), value or ""
