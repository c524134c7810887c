"""Value objects of the language catalog.

They are frozen so a `Language` can be shared between threads, used as a dict key and
put in a request record without anyone mutating the catalog under a live call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ResolutionKind = Literal["match", "ambiguous", "none"]


@dataclass(frozen=True)
class Language:
    """One language an interpreter can be requested for.

    `id` is the catalog key: the ISO 639-3 code, or a documented BCP 47 private-use key
    ("yue-x-taishan") for a variety that ISO 639-3 folds into a parent; `iso639_3` is then
    the parent code so vendors and reports still get a real ISO code.
    """

    id: str
    iso639_3: str
    iso639_1: str | None
    name: str
    endonym: str
    aliases: tuple[str, ...]
    keypad: str
    vendor_code: str
    twilio_voice: str | None
    hold_sentence: str | None
    rank: int

    def __str__(self) -> str:  # log lines and prompts read better with the name
        return self.name


@dataclass(frozen=True)
class Resolution:
    """What a keypad entry, SMS text or speech result names.

    kind "match" sets `language`; "ambiguous" offers `choices` (most requested first) so
    the IVR can read a short menu; "none" may offer `suggestions` for "did you mean".
    `via` says how it matched ("keypad", "code", "name", "endonym", "alias", "fuzzy",
    "speech") so callers can confirm weak matches (fuzzy) and log the path taken.
    """

    kind: ResolutionKind
    language: Language | None = None
    choices: tuple[Language, ...] = ()
    suggestions: tuple[Language, ...] = ()
    via: str = ""

    @property
    def matched(self) -> bool:
        return self.kind == "match"


@dataclass(frozen=True)
class Detection:
    """A guess at the language a free text is written in.

    `confident` False means the guess must be confirmed with the person before an
    interpreter is dialled: a wrong language costs minutes on a live police call, a
    confirmation costs one reply. `method` names the evidence ("script", "langdetect",
    "markers", "none").
    """

    language: Language | None
    confidence: float
    confident: bool
    method: str
