"""Text folding shared by the catalog index, the resolver and the detector.

Both sides of every lookup go through `fold`, so "Español", "espanol" and "ESPAÑOL" meet
on one key and "K'iche'", "Kʼicheʼ" and "Kiche" on another. Accents are stripped only from
Latin, Greek and Cyrillic letters: in Indic and other scripts the combining marks are
vowels, and dropping them would merge different words.
"""

from __future__ import annotations

import string
import unicodedata

# Apostrophe-like marks vanish (K'iche' -> kiche, O'zbek -> ozbek); they are letters in
# several orthographies but people type them inconsistently or not at all.
_APOSTROPHES = "'`´‘’ʼʻʹ′ˈ"
# Latin letters that NFKD does not decompose but people type without the stroke/hook.
_LATIN_EXTRA = {
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "ı": "i",
    "ħ": "h",
    "ɛ": "e",
    "ɔ": "o",
    "ŋ": "n",
    "ʋ": "v",
    "ɗ": "d",
    "ɓ": "b",
    "ƙ": "k",
    "ɣ": "g",
    "ƒ": "f",
    "þ": "th",
    "ŧ": "t",
    "ɲ": "n",
    "ǝ": "e",
    "ə": "e",
    "ɨ": "i",
    "ʉ": "u",
}
_ASCII_TABLE = str.maketrans({**{c: " " for c in string.punctuation + "\t\r\n\x0b\x0c"}, **{c: None for c in "'`"}})
_NONASCII_PRE = str.maketrans({**{c: None for c in _APOSTROPHES}, **_LATIN_EXTRA})


def _strip_mark_after(base: str) -> bool:
    """True when a combining mark on `base` is an accent (Latin/Greek/Cyrillic)."""
    return base < "\u0530"


def fold(text: str) -> str:
    """Casefold, drop accents and apostrophes, turn anything else that is not a letter,
    mark or digit into a single space."""
    s = text.casefold()
    if s.isascii():
        return " ".join(s.translate(_ASCII_TABLE).split())
    s = unicodedata.normalize("NFKD", s.translate(_NONASCII_PRE))
    out: list[str] = []
    base = " "
    for ch in s:
        cat = unicodedata.category(ch)
        if cat[0] == "M":
            if not _strip_mark_after(base):
                out.append(ch)
            continue
        if cat[0] in "LN":
            base = ch
            out.append(ch)
        else:
            base = " "
            out.append(" ")
    return " ".join("".join(out).split())
