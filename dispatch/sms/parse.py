"""Read a supervisor's or liaison's text: a command, or a language with its options.

Pure functions, no Flask and no Redis, so every way a person might write a request
can be pinned down by table-driven tests. Two steps:

1. `parse(body)` splits the text into a command (HELP, CODES, STATUS, CANCEL, YES,
   NO, ON, OFF), a callback number, the word URGENT, and what is left to read as a
   language. The body is capped at MAX_BODY characters before anything else.
2. `read_language(catalog, text)` decides what that remainder names: a language
   (keypad code, ISO code, name, endonym), a near miss to confirm, a short list to
   choose from, or a sentence in the resident's own language to detect.

Nothing here keeps the text: callers hold it only for the length of one webhook.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from dispatch.languages import Catalog, Detection, Language
from dispatch.phone import to_e164
from dispatch.sms.report_words import interpreter_id_command, take_gender, take_incident

MAX_BODY = 480
"""Characters looked at: three SMS segments. A 1,600-character body costs no more than this."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_EDGE_PUNCT = ".,!?;:'\"()[]{}<>*_~`-"

# Whole-text commands. Only a text that *is* the command counts, so a forwarded
# sentence that starts with "No ..." or "Si ..." is read as a sentence.
_COMMANDS = {
    "HELP": "HELP",
    "INFO": "HELP",
    "MENU": "HELP",
    "?": "HELP",
    "COMMANDS": "HELP",
    "CODES": "CODES",
    "CODE": "CODES",
    "LIST": "CODES",
    "LANGUAGES": "CODES",
    "STATUS": "STATUS",
    "STAT": "STATUS",
    "CANCEL": "CANCEL",
    "CANCELL": "CANCEL",
    "CANCLE": "CANCEL",
    "ABORT": "CANCEL",
    "YES": "YES",
    "Y": "YES",
    "YEP": "YES",
    "YEAH": "YES",
    "YA": "YES",
    "OK": "YES",
    "OKAY": "YES",
    "CONFIRM": "YES",
    "SI": "YES",
    "SÍ": "YES",
    "OUI": "YES",
    "DA": "YES",
    "NO": "NO",
    "N": "NO",
    "NOPE": "NO",
    "ON": "ON",
    "OFF": "OFF",
}
_REQUEST_ID = re.compile(r"^R\d{1,9}$", re.IGNORECASE)
_URGENT = frozenset({"urgent", "urgently", "emergency", "asap"})
_UNKNOWN = frozenset({"0", "unknown", "idk", "dont know", "don't know", "not sure", "unsure"})
# Words that introduce a callback number ("call me back at ...", "cb 718 ...").
_CALLBACK_LEAD = frozenset(
    {
        "call",
        "callback",
        "call-back",
        "cb",
        "cbn",
        "back",
        "at",
        "on",
        "to",
        "me",
        "us",
        "number",
        "num",
        "no",
        "nr",
        "tel",
        "phone",
        "cell",
        "line",
        "#",
        "@",
        "via",
        "use",
        "using",
        "dual",
        "handset",
        "scene",
        "the",
        "this",
        "please",
        "pls",
    }
)
_PHONE_TOKEN = re.compile(r"^[+(]?[\d().\-]*\d[\d().\-]*$")
_MIN_NUMBER_DIGITS, _MAX_NUMBER_DIGITS = 10, 15


@dataclass(frozen=True)
class Parsed:
    """What one text says. `text` is the cleaned body, held in memory only."""

    text: str
    command: str | None = None
    args: tuple[str, ...] = ()
    language_text: str = ""
    urgent: bool = False
    callback: str | None = None  # E.164
    callback_invalid: bool = False  # something number-like that cannot be dialled
    unknown_language: bool = False  # "0" / "unknown": the vendor's operator identifies it
    gender: str = ""  # "female" | "male": the interpreter asked for (report_words.py)
    incident: str = ""  # `inc <number>`
    incident_invalid: bool = False  # `inc` without a usable number

    @property
    def empty(self) -> bool:
        return not self.text


def clean(body: str | None) -> str:
    """Cap, drop control and invisible formatting characters, collapse whitespace."""
    text = (body or "")[:MAX_BODY]
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates → "?"
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def _word(token: str) -> str:
    stripped = token.strip(_EDGE_PUNCT)
    return stripped if stripped else token


def parse(body: str | None) -> Parsed:
    """Split a text into command / callback number / URGENT / language words."""
    text = clean(body)
    if not text:
        return Parsed(text="")
    tokens = text.split(" ")
    id_args = interpreter_id_command(tokens)
    if id_args is not None:
        return Parsed(text=text, command="ID", args=id_args)
    report, tokens = take_incident(tokens)  # before the number: 2026-012345 is no callback number
    callback, invalid, tokens = _extract_number(tokens)
    urgent = any(_word(t).casefold() in _URGENT for t in tokens)
    tokens = [t for t in tokens if _word(t).casefold() not in _URGENT]
    report, tokens = take_gender(report, tokens)
    command, args = _command(tokens)
    language_text = " ".join(tokens).strip(" ,;:-")
    folded = " ".join(_word(t).casefold() for t in tokens)
    return Parsed(
        text=text,
        command=command,
        args=args,
        language_text=language_text,
        urgent=urgent,
        callback=callback,
        callback_invalid=invalid,
        unknown_language=folded in _UNKNOWN,
        gender=report.gender,
        incident=report.incident,
        incident_invalid=report.incident_invalid,
    )


def _command(tokens: list[str]) -> tuple[str | None, tuple[str, ...]]:
    words = [_word(t).upper() for t in tokens]
    words = [w for w in words if w]
    if not words:
        return None, ()
    head = _COMMANDS.get(words[0])
    if head is None and words[0] == "?" * len(words[0]) and len(words) == 1:
        return "HELP", ()
    if head is None:
        return None, ()
    rest = words[1:]
    if rest and rest[0] in ("DUTY", "SHIFT") and head in ("ON", "OFF"):
        rest = rest[1:]
    if not rest:
        return head, ()
    if head == "ON":
        pieces = re.split(r"[,;/&+]|\band\b", " ".join(tokens[1:]), flags=re.IGNORECASE)
        pieces = [p.strip(" .") for p in pieces]
        pieces = [p for p in pieces if p and p.upper() not in ("DUTY", "SHIFT")]
        return head, tuple(pieces)
    if head in ("CANCEL", "STATUS") and len(rest) == 1 and _REQUEST_ID.match(rest[0]):
        return head, (rest[0].upper(),)
    if head in ("YES", "NO") and len(rest) == 1 and rest[0] in ("PLEASE", "PLS", "THANKS", "THANK"):
        return head, ()
    return None, ()


def _digits(token: str) -> int:
    return sum(ch.isdigit() for ch in token)


def _extract_number(tokens: list[str]) -> tuple[str | None, bool, list[str]]:
    """Find a dialable number among the tokens; return it, whether an undialable one was
    seen, and the tokens left (the number and the words that introduced it removed).

    A run of number-like tokens may start with a keypad code ("2 718 555 0175"), so
    the longest contiguous part of the run that is a valid number wins.
    """
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        if _PHONE_TOKEN.match(tokens[i].rstrip(".,;:")):
            j = i
            while j < len(tokens) and _PHONE_TOKEN.match(tokens[j].rstrip(".,;:")):
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    for start, end in runs:
        run = [t.rstrip(".,;:") for t in tokens[start:end]]
        if sum(_digits(t) for t in run) < 7:
            continue
        found = _best_number(run)
        if found is not None:
            number, a, b = found
            kept = _drop_lead(tokens[:start]) + tokens[start : start + a]
            return number, False, kept + tokens[start + b : end] + tokens[end:]
        # Number-like but not dialable: keep a leading keypad code ("2 555-0175").
        kept = [tokens[start]] if _digits(tokens[start]) <= 3 and tokens[start].isdigit() else []
        return None, True, _drop_lead(tokens[:start]) + kept + tokens[end:]
    return None, False, tokens


def _best_number(run: list[str]) -> tuple[str, int, int] | None:
    n = len(run)
    spans = sorted(((a, b) for a in range(n) for b in range(a + 1, n + 1)), key=lambda ab: (-(ab[1] - ab[0]), ab[0]))
    for a, b in spans:
        number = _dialable(run[a:b])
        if number is None:
            continue
        if a == 0 and b - a > 1 and run[0].isdigit() and len(run[0]) <= 3:
            # "1 347 555 0199": a keypad code before a number, not its country code.
            rest = _dialable(run[1:b])
            if rest is not None:
                return rest, 1, b
        return number, a, b
    return None


def _dialable(tokens: list[str]) -> str | None:
    part = " ".join(tokens)
    if not _MIN_NUMBER_DIGITS <= _digits(part) <= _MAX_NUMBER_DIGITS:
        return None
    try:
        return to_e164(part)
    except ValueError:
        return None


def _drop_lead(tokens: list[str]) -> list[str]:
    """Remove "call me back at" just before a number."""
    out = list(tokens)
    while out and _word(out[-1]).casefold() in _CALLBACK_LEAD:
        out.pop()
    return out


# ---------------------------------------------------------------- what the words name

ChoiceKind = Literal["request", "confirm", "choose", "none"]

SENTENCE_WORDS = 4
"""From this many words on, a text is read as a sentence first (the resident's own words)."""


@dataclass(frozen=True)
class LanguageChoice:
    """The outcome of reading a text as a language.

    kind "request": ask for `language` now. "confirm": `language` is a guess (a near
    miss, or a detection that is not sure) and needs a YES. "choose": `choices` share
    the word. "none": nothing found; `choices` may hold suggestions. `via` says how
    ("keypad", "code", "name", ..., "fuzzy", "detected").
    """

    kind: ChoiceKind
    language: Language | None = None
    choices: tuple[Language, ...] = field(default=())
    via: str = ""


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def _latin_only(text: str) -> bool:
    return all(ord(ch) < 0x250 for ch in text if ch.isalpha())


def read_language(catalog: Catalog, text: str) -> LanguageChoice:
    """Decide which language a text names or is written in.

    A short text is read as a language name ("2", "ES", "Bangla", "spansh"); only a
    lone word in a non-Latin script or several words go to the detector. In a
    sentence, a language named in it wins ("I need a Spanish interpreter please"),
    except English ("no hablo inglés" is Spanish) and except against a sure
    detection of a non-Latin sentence (the resident's own words). English is never
    requested from a detection: an English sentence means the supervisor still has
    to name the language.
    """
    text = text.strip()
    if not text:
        return LanguageChoice("none")
    words = len(text.split())
    found = catalog.resolve(text)
    sentence = words >= SENTENCE_WORDS
    # "No hablo inglés": English named inside a phrase is what the resident does not speak.
    english_in_phrase = found.kind == "match" and _is_english(found.language) and found.via == "speech"
    if not sentence and not english_in_phrase:
        if found.kind == "match" and found.language is not None:
            return LanguageChoice("confirm" if found.via == "fuzzy" else "request", found.language, via=found.via)
        if found.kind == "ambiguous" and found.choices:
            return LanguageChoice("choose", choices=found.choices, via=found.via)
        if not _worth_detecting(text):
            return LanguageChoice("none", choices=found.suggestions)
    prose = _prose(text)
    detection = _detect(catalog, prose) if _letters(prose) >= 2 else None
    guess = detection.language if detection and not _is_english(detection.language) else None
    sure = guess is not None and detection is not None and detection.confident
    named = found.language if found.kind == "match" and found.via != "fuzzy" else None
    if named is not None and not _is_english(named) and not (sure and not _latin_only(text)):
        return LanguageChoice("request", named, via=found.via)
    if sure:
        return LanguageChoice("request", guess, via="detected")
    if found.kind == "ambiguous" and found.choices:
        return LanguageChoice("choose", choices=found.choices, via=found.via)
    if guess is not None:
        return LanguageChoice("confirm", guess, via="detected")
    if found.kind == "match" and found.language is not None:
        return LanguageChoice("confirm", found.language, via=found.via)
    return LanguageChoice("none", choices=found.suggestions)


def _worth_detecting(text: str) -> bool:
    """A lone Latin-script word that is no language name is a typo, not a sentence to detect;
    a word in another script ("Помогите", "مساعدة") is worth a guess."""
    prose = _prose(text)
    if _letters(prose) < 2:
        return False
    return len(prose.split()) >= 2 or not _latin_only(prose)


_MARKUP = set("<>&[]{}=\\|@")


def _prose(text: str) -> str:
    """The words of a text without markup-like tokens (tags, entities, URLs, code), which
    say nothing about the resident's language: pasted TwiML is not "Afrikaans"."""
    return " ".join(t for t in text.split() if not (_MARKUP & set(t)) and "://" not in t)


def _detect(catalog: Catalog, text: str) -> Detection | None:
    try:
        return catalog.detect(text)
    except Exception:  # the detector must never cost a reply
        return None


def _is_english(language: Language | None) -> bool:
    return language is not None and language.iso639_3 == "eng"


__all__ = ["MAX_BODY", "Parsed", "LanguageChoice", "clean", "parse", "read_language"]
