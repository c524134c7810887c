"""Every text the service sends, in one place, each fitting one SMS segment.

A segment is 160 characters of the GSM-7 alphabet; a single character outside it
(a curly quote, an endonym) switches the whole text to UCS-2 and 70 characters, so
`finish` folds every reply into GSM-7 and the tests check each one fits. Replies
never echo what the sender wrote: the text is not kept, and an echoed body would
be a way to make the service send arbitrary content.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from dispatch.languages import Language
from dispatch.records import RequestRecord
from dispatch.states import State

SEGMENT = 160

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")
_FOLD = {
    "‘": "'",
    "’": "'",
    "ʼ": "'",
    "ʻ": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
    "…": "...",
    "\u00a0": " ",
    "•": "*",
}


def gsm7_units(text: str) -> int | None:
    """Septets `text` takes in GSM-7 (extension characters count two), None if it needs UCS-2."""
    units = 0
    for ch in text:
        if ch in _GSM_BASIC:
            units += 1
        elif ch in _GSM_EXTENDED:
            units += 2
        else:
            return None
    return units


def fits(text: str) -> bool:
    """One GSM-7 segment."""
    units = gsm7_units(text)
    return units is not None and units <= SEGMENT


def to_gsm7(text: str) -> str:
    """Fold to the GSM-7 alphabet: curly quotes to straight, accents dropped where GSM-7
    lacks the accented letter, anything else left out."""
    out: list[str] = []
    for ch in text:
        ch = _FOLD.get(ch, ch)
        if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in ch):
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if c in _GSM_BASIC)
        out.append(base)
    return "".join(out)


def finish(text: str) -> str:
    """The last step of every reply: GSM-7 only, cut to one segment if it still runs over."""
    text = " ".join(to_gsm7(text).split())
    while (units := gsm7_units(text)) is not None and units > SEGMENT:
        text = text[: SEGMENT - 3].rstrip() + "..."
    return text


def name(language: Language | None) -> str:
    """The English name as GSM-7 (endonyms would force UCS-2 and 70-character segments)."""
    return to_gsm7(language.name) if language else "Unknown language"


def _list_until_full(head: str, items: Iterable[str], tail: str, sep: str = ", ") -> str:
    """`head` + as many `items` as fit in one segment with `tail` + `tail`."""
    shown: list[str] = []
    for item in items:
        candidate = head + sep.join(shown + [item]) + tail
        if not fits(to_gsm7(candidate)):
            break
        shown.append(item)
    return head + sep.join(shown) + tail


# ---------------------------------------------------------------- fixed replies

HELP = finish(
    "Interpreter: text a language (SPANISH, ES or 1), add URGENT, and a callback number if not "
    "this phone. We call you back. Also CODES, STATUS, CANCEL"
)
LIAISON_HELP = finish(
    "Liaison: text ON to go on duty, ON with codes for today's languages (ON ES BN), "
    "OFF to go off duty, STATUS to check."
)
UNREGISTERED = finish(
    "Sorry, this phone is not registered for the interpreter service. "
    "Please call your desk sergeant for an interpreter."
)
PICTURE = finish(
    "Pictures can't be read. Please text the language name or code instead, e.g. SPANISH or ES. Text CODES for a list."
)
EMPTY = finish(
    "Your text was empty. Text a language name or code (SPANISH, ES or 1) to get an interpreter. Text HELP for more."
)
NEED_LANGUAGE = finish(
    "Which language? Text its name or code, e.g. SPANISH URGENT or 1 URGENT. Text 0 if unknown, CODES for a list."
)
BAD_CALLBACK = finish(
    "That callback number can't be dialled. Send it with the area code, e.g. 718 555 0175, "
    "or leave it out to be called on this phone."
)
NOTHING_TO_CONFIRM = finish(
    "Nothing to confirm. Text a language name or code to get an interpreter. Text HELP for help."
)
DECLINED = finish("OK, nothing requested. Text the language name or code, or 0 if unknown. Text CODES for a list.")
TOO_MANY = finish("Too many texts from this phone. Please wait a minute, or call the desk sergeant for an interpreter.")
IN_PROGRESS = finish("Your text is being handled. If no reply follows, text STATUS.")
NO_OPEN = finish("You have no open request. Text a language name or code to get an interpreter.")
LIAISON_OFF = finish("You are OFF duty: no calls will be offered. Text ON when you are back.")
LIAISON_NO_CODES = finish(
    "No language recognised. Text ON alone for your usual languages, ON with codes "
    "(ON ES BN), or OFF. CODES lists codes."
)


# ---------------------------------------------------------------- replies with values


def requested(rec: RequestRecord, callback: str | None) -> str:
    """The answer to a request: number, language, and what happens next."""
    urgent = ", URGENT" if rec.urgent else ""
    urgent += f", {rec.gender} interpreter" if rec.gender else ""
    urgent += f", inc {rec.incident}" if rec.incident else ""
    language = to_gsm7(rec.language_name) if rec.language else "language to be identified"
    # Stored for redeliveries (SmsService.handle): a number not in the roster only in part.
    where = f"the number ending {callback[-4:]}" if callback else "this phone"
    return finish(
        f"Request {rec.id}: {language}{urgent}. Calling {where} now; answer to reach an interpreter. "
        "Text CANCEL to stop."
    )


def already(rec: RequestRecord) -> str:
    return finish(
        f"You already have request {rec.id} ({to_gsm7(rec.language_name)}). We will call you. "
        "Text STATUS to check or CANCEL to stop."
    )


def confirm_detected(language: Language) -> str:
    """The issue's wording: a detection the service is not sure of."""
    n = name(language)
    return finish(f"Looks like {n}. Reply YES to request {n}, or send a language code.")


def confirm_near_miss(language: Language) -> str:
    n = name(language)
    return finish(f"Did you mean {n}? Reply YES to request {n}, or send a language code.")


def choose(choices: Sequence[Language]) -> str:
    """A word several languages share ("Chinese"): list them with their keypad codes."""
    return finish(_list_until_full("Which one? Reply with the code: ", (f"{c.keypad} {name(c)}" for c in choices), "."))


def not_recognised(suggestions: Sequence[Language]) -> str:
    if suggestions:
        return finish(
            _list_until_full(
                "Language not recognised. Did you mean ",
                (f"{name(s)} ({s.keypad})" for s in suggestions[:3]),
                "? Text the code, or CODES for a list.",
                sep=" or ",
            )
        )
    return finish(
        "Language not recognised. Text its name or code, e.g. SPANISH, ES or 1, or 0 if unknown. Text CODES for a list."
    )


def codes(languages: Sequence[Language]) -> str:
    """CODES: the most requested languages with their keypad codes, as many as fit."""
    return finish(
        _list_until_full(
            "Codes: ", (f"{lang.keypad} {name(lang)}" for lang in languages), ". Or text a name.", sep=", "
        )
    )


_STATE_TEXT = {
    State.NEW: "calling you back now",
    State.QUEUED: "finding an interpreter",
    State.OFFERING: "an interpreter's phone is ringing",
    State.VENDOR_DIALING: "dialling the interpreter line",
    State.CONNECTED: "connected to an interpreter",
    State.REJOINING: "the line dropped; the interpreter is waiting for you to rejoin",
}


def status(rec: RequestRecord, place: int | None = None) -> str:
    what = _STATE_TEXT.get(rec.state, rec.state.value)
    line = f", number {place} in line" if place and rec.state == State.QUEUED else ""
    urgent = ", URGENT" if rec.urgent else ""
    tail = " Text CANCEL to stop." if rec.waiting else ""
    return finish(f"Request {rec.id} ({to_gsm7(rec.language_name)}{urgent}): {what}{line}.{tail}")


def cancelled(rec: RequestRecord) -> str:
    return finish(f"Request {rec.id} ({to_gsm7(rec.language_name)}) is cancelled. Text a language to request again.")


def cannot_cancel(rec: RequestRecord) -> str:
    if rec.state == State.CONNECTED:
        return finish(f"Request {rec.id} is connected to an interpreter; hang up to end it.")
    return finish(f"Request {rec.id} is already closed.")


def liaison_on(languages: Sequence[Language], usual: bool, unrecognised: int = 0) -> str:
    note = f" {unrecognised} code{'s' if unrecognised != 1 else ''} not recognised." if unrecognised else ""
    head = "You are ON duty for your usual languages: " if usual else "You are ON duty today for "
    tail = f".{note} Text OFF when you stop."
    return finish(_list_until_full(head, (name(lang) for lang in languages), tail))


def liaison_status(on: bool, languages: Sequence[Language], source: str) -> str:
    if not on:
        return finish(f"You are OFF duty ({source}). Text ON to take calls.")
    return finish(
        _list_until_full(f"You are ON duty ({source}) for ", (name(lang) for lang in languages), ". Text OFF to stop.")
    )


# ---------------------------------------------------------------- notices (sent, not replied)


def notice_connecting(rec: RequestRecord) -> str:
    """Sent when the called-back phone has joined: the interpreter is being connected."""
    if rec.language:
        return finish(
            f"Request {rec.id}: a {to_gsm7(rec.language_name)} interpreter is being connected. Stay on the line."
        )
    return finish(f"Request {rec.id}: an interpreter is being connected. Stay on the line.")


def notice_failed(rec: RequestRecord) -> str:
    """Sent when a texted request fails: why, and what to do now."""
    language = to_gsm7(rec.language_name)
    if rec.outcome.startswith("call-back"):
        return finish(
            f"Request {rec.id} ({language}): we called but nobody answered, so it is closed. "
            "Text the language again to retry."
        )
    return finish(
        f"Request {rec.id} ({language}): no interpreter could be reached. "
        "Call the desk sergeant, or text the language again."
    )


NOTICES = {"connecting": notice_connecting, "failed": notice_failed}
