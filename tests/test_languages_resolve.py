"""Resolution of what people enter: keypad, codes, names, endonyms, aliases, near misses,
speech phrases, ambiguous words and garbage. Table-driven."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.languages import default_catalog

CAT = default_catalog()

# (input, expected language id, via)
MATCHES: list[tuple[str, str, str]] = [
    # keypad digits, with and without the terminating '#'
    ("1", "spa", "keypad"),
    ("1#", "spa", "keypad"),
    ("2", "cmn", "keypad"),
    ("2#", "cmn", "keypad"),
    ("3", "yue", "keypad"),
    ("4#", "rus", "keypad"),
    ("5", "ben", "keypad"),
    ("6", "hat", "keypad"),
    ("7", "ara", "keypad"),
    ("8#", "kor", "keypad"),
    ("10", "urd", "keypad"),
    ("11#", "fra", "keypad"),
    ("12", "cdo", "keypad"),
    (" 14 # ", "yid", "keypad"),
    ("100", "hye", "keypad"),
    # codes in any case
    ("ES", "spa", "code"),
    ("es", "spa", "code"),
    ("spa", "spa", "code"),
    ("SPA", "spa", "code"),
    ("zh", "cmn", "code"),
    ("cmn", "cmn", "code"),
    ("zh-TW", "cmn", "code"),
    ("ru", "rus", "code"),
    ("RUS", "rus", "code"),
    ("bn", "ben", "code"),
    ("ht", "hat", "code"),
    ("HAT", "hat", "code"),
    ("ar", "ara", "code"),
    ("ko", "kor", "code"),
    ("ur", "urd", "code"),
    ("fuc", "ful", "code"),
    ("ff", "ful", "code"),
    ("prs", "prs", "code"),
    ("ps", "pus", "code"),
    ("ti", "tir", "code"),
    ("quc", "quc", "code"),
    ("nah", "nhe", "code"),
    ("tl", "tgl", "code"),
    ("fa", "fas", "code"),
    ("yue-x-taishan", "yue-x-taishan", "code"),
    ("cdo", "cdo", "code"),
    ("sq", "sqi", "code"),
    ("uz", "uzb", "code"),
    # English names
    ("Spanish", "spa", "name"),
    ("spanish", "spa", "name"),
    ("SPANISH", "spa", "name"),
    ("Mandarin", "cmn", "name"),
    ("Cantonese", "yue", "name"),
    ("Russian", "rus", "name"),
    ("Bengali", "ben", "name"),
    ("Haitian Creole", "hat", "name"),
    ("Arabic", "ara", "name"),
    ("Korean", "kor", "name"),
    ("Fuzhounese", "cdo", "name"),
    ("Toisanese", "yue-x-taishan", "name"),
    ("Punjabi", "pan", "name"),
    ("Urdu", "urd", "name"),
    ("Nepali", "nep", "name"),
    ("Tibetan", "bod", "name"),
    ("Albanian", "sqi", "name"),
    ("Bosnian", "bos", "name"),
    ("Croatian", "hrv", "name"),
    ("Serbian", "srp", "name"),
    ("Yiddish", "yid", "name"),
    ("Wolof", "wol", "name"),
    ("Soninke", "snk", "name"),
    ("Mandinka", "mnk", "name"),
    ("Twi", "twi", "name"),
    ("Garifuna", "cab", "name"),
    ("Mixtec", "mix", "name"),
    ("K'iche'", "quc", "name"),
    ("Kiche", "quc", "name"),
    ("Mam", "mam", "name"),
    ("Quechua", "que", "name"),
    ("Nahuatl", "nhe", "name"),
    ("Dari", "prs", "name"),
    ("Pashto", "pus", "name"),
    ("Tigrinya", "tir", "name"),
    ("Fula", "ful", "name"),
    ("Persian", "fas", "name"),
    ("haitian creole.", "hat", "name"),
    ("Kʼicheʼ", "quc", "name"),
    ("Q'eqchi'", "kek", "name"),
    ("Hokkien", "nan", "name"),
    # endonyms, with and without accents, in their own scripts
    ("Español", "spa", "endonym"),
    ("espanol", "spa", "endonym"),
    ("ESPAÑOL", "spa", "endonym"),
    ("Français", "fra", "endonym"),
    ("francais", "fra", "endonym"),
    ("Português", "por", "endonym"),
    ("Kreyòl ayisyen", "hat", "endonym"),
    ("kreyol ayisyen", "hat", "endonym"),
    ("Русский", "rus", "endonym"),
    ("русский", "rus", "endonym"),
    ("বাংলা", "ben", "endonym"),
    ("한국어", "kor", "endonym"),
    ("العربية", "ara", "endonym"),
    ("普通话", "cmn", "endonym"),
    ("廣東話", "yue", "endonym"),
    ("ਪੰਜਾਬੀ", "pan", "endonym"),
    ("नेपाली", "nep", "endonym"),
    ("Pulaar", "ful", "endonym"),
    ("Shqip", "sqi", "endonym"),
    ("Runasimi", "que", "endonym"),
    ("Türkçe", "tur", "endonym"),
    ("turkce", "tur", "endonym"),
    ("Tiếng Việt", "vie", "endonym"),
    ("tieng viet", "vie", "endonym"),
    ("ትግርኛ", "tir", "endonym"),
    ("پښتو", "pus", "endonym"),
    ("Srpski", "srp", "endonym"),
    ("Српски", "srp", "endonym"),
    ("Tu'un Savi", "mix", "endonym"),
    # aliases
    ("Castellano", "spa", "alias"),
    ("Fulani", "ful", "alias"),
    ("Peul", "ful", "alias"),
    ("Farsi", "fas", "alias"),
    ("Mixteco", "mix", "alias"),
    ("Quiché", "quc", "alias"),
    ("quiche", "quc", "alias"),
    ("Kreyol", "hat", "alias"),
    ("Bangla", "ben", "alias"),
    ("Filipino", "tgl", "alias"),
    ("Putonghua", "cmn", "alias"),
    ("Taishanese", "yue-x-taishan", "alias"),
    ("Hoisan", "yue-x-taishan", "alias"),
    ("Foochow", "cdo", "alias"),
    ("Fuzhou", "cdo", "alias"),
    ("Mandinko", "mnk", "alias"),
    ("Sarakole", "snk", "alias"),
    ("Ashanti", "twi", "alias"),
    ("Pashtu", "pus", "alias"),
    ("Tigrigna", "tir", "alias"),
    ("Panjabi", "pan", "alias"),
    ("Nepalese", "nep", "alias"),
    ("Taiwanese", "nan", "alias"),
    ("Cambodian", "khm", "alias"),
    ("Burmese", "mya", "name"),
    ("Myanmar", "mya", "alias"),
    ("Farsi Dari", "prs", "alias"),
    ("Kichwa", "qvi", "name"),
    ("Quichua", "qvi", "alias"),
    ("Sign language", "ase", "alias"),
    ("ASL", "ase", "endonym"),
    ("Brazilian", "por", "alias"),
    ("Moldovan", "ron", "alias"),
    ("Nahua", "nhe", "alias"),
    ("Mexicano", "nhe", "alias"),
    ("Garinagu", "cab", "alias"),
    # near misses
    ("spansh", "spa", "fuzzy"),
    ("portugese", "por", "fuzzy"),
    ("rusian", "rus", "fuzzy"),
    ("spanich", "spa", "fuzzy"),
    ("mandrin", "cmn", "fuzzy"),
    ("cantonise", "yue", "fuzzy"),
    ("arabik", "ara", "fuzzy"),
    ("korian", "kor", "fuzzy"),
    ("bengli", "ben", "fuzzy"),
    ("vietnamise", "vie", "fuzzy"),
    ("hatian creole", "hat", "fuzzy"),
    ("albanien", "sqi", "fuzzy"),
    ("punjab", "pan", "fuzzy"),
    ("tigrinia", "tir", "alias"),
    ("pashtoo", "pus", "fuzzy"),
    ("Frenchh", "fra", "fuzzy"),
    ("somalli", "som", "fuzzy"),
    ("ukranian", "ukr", "fuzzy"),
    # speech phrases
    ("I need Spanish please", "spa", "speech"),
    ("Spanish interpreter", "spa", "speech"),
    ("habla español", "spa", "speech"),
    ("Spanish, please.", "spa", "speech"),
    ("uh I need a Russian interpreter", "rus", "speech"),
    ("she speaks Haitian Creole", "hat", "speech"),
    ("He doesn't speak English, he speaks Bengali", "ben", "speech"),
    ("Can I get someone who speaks Mandarin", "cmn", "speech"),
    ("the victim speaks K'iche'", "quc", "speech"),
    ("Chinese Mandarin", "cmn", "speech"),
    ("Chinese, Fuzhou dialect", "cdo", "speech"),
    ("I need a spanich translator", "spa", "fuzzy"),
    ("we need someone for Fulani", "ful", "speech"),
    ("Arabic translator needed", "ara", "speech"),
    ("interpreter for Dari please", "prs", "speech"),
    ("Language is Wolof", "wol", "speech"),
    ("need Tigrinya", "tir", "speech"),
    ("habla Mixteco", "mix", "speech"),
    ("kreyòl tanpri", "hat", "speech"),
]

# (input, ids that must be among the choices, in this order at the top)
AMBIGUOUS: list[tuple[str, tuple[str, ...]]] = [
    ("Chinese", ("cmn", "yue", "cdo", "yue-x-taishan")),
    ("chinese", ("cmn", "yue", "cdo", "yue-x-taishan")),
    ("I need a Chinese interpreter", ("cmn", "yue", "cdo", "yue-x-taishan")),
    ("Creole", ("hat", "kea")),
    ("creole please", ("hat", "kea")),
    ("Kurdish", ("kmr", "ckb")),
    ("Serbo-Croatian", ("srp", "bos", "hrv")),
    ("Afghan", ("prs", "pus")),
    ("Ethiopian", ("tir", "amh")),
    ("Eritrean", ("tir", "tig")),
    ("Jewish", ("yid", "heb")),
    ("Mayan", ("quc", "mam")),
    ("Maya", ("quc", "mam")),
    ("Berber", ("kab", "tzm")),
    ("Aramaic", ("aii", "cld")),
    ("Hindustani", ("urd", "hin")),
    ("Akan", ("twi", "fat")),
    ("Bahasa", ("ind", "msa")),
    ("Fujianese", ("cdo", "nan")),
    ("Spanish or Portuguese", ("spa", "por")),
    ("Cantonese / Mandarin", ("cmn", "yue")),
    ("kurdsh", ("kmr", "ckb")),
]

GARBAGE = [
    "",
    " ",
    "   \t\n",
    "#",
    "##",
    "0",
    "9",
    "0#",
    "9#",
    "000",
    "999",
    "12345",
    "1" * 30,
    "🙂",
    "🙂🙂🙂",
    "!!!",
    "???",
    "asdfgh",
    "qwertyuiop",
    "xyzzy",
    "hello",
    "yes",
    "no",
    "help",
    "I need an interpreter",
    "interpreter please",
    "\x00\x01",
    "<script>",
    "Klingon",
    "Elvish",
    "zz",
    "q",
]

# (input, ids expected among the suggestions)
SUGGESTS: list[tuple[str, tuple[str, ...]]] = [
    ("china", ("cmn", "yue")),
    ("fransh", ("fra",)),
    ("tibet", ("bod",)),
    ("portu", ("por",)),
]


@pytest.mark.parametrize("text,lang_id,via", MATCHES)
def test_match(text, lang_id, via):
    res = CAT.resolve(text)
    assert res.kind == "match", res
    assert res.language.id == lang_id, (text, res.language)
    assert res.via == via, (text, res.via)
    assert res.choices == () and res.suggestions == ()


@pytest.mark.parametrize("text,expected", AMBIGUOUS)
def test_ambiguous(text, expected):
    res = CAT.resolve(text)
    assert res.kind == "ambiguous", (text, res)
    assert res.language is None
    ids = [x.id for x in res.choices]
    assert ids[: len(expected)] == list(expected), ids
    assert 2 <= len(ids) <= 8
    ranks = [x.rank for x in res.choices]
    assert ranks == sorted(ranks), "choices must be most requested first"


def test_chinese_lists_the_chinese_varieties_a_new_york_precinct_meets():
    ids = [x.id for x in CAT.resolve("Chinese").choices]
    assert ids[:4] == ["cmn", "yue", "cdo", "yue-x-taishan"]
    assert {"nan", "hak", "wuu"} <= set(ids)


@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_is_none(text):
    res = CAT.resolve(text)
    assert res.kind == "none", (text, res)
    assert res.language is None and res.choices == ()


@pytest.mark.parametrize("text,expected", SUGGESTS)
def test_none_with_suggestions(text, expected):
    res = CAT.resolve(text)
    assert res.kind == "none", res
    ids = [x.id for x in res.suggestions]
    assert set(expected) <= set(ids), ids
    assert len(ids) <= 5


@pytest.mark.parametrize("value", [None, 42, 3.5, b"spanish", ["es"]])
def test_non_string_input_is_none(value):
    assert CAT.resolve(value).kind == "none"  # type: ignore[arg-type]


def test_fuzzy_needs_a_clear_winner():
    # "sindi" is one edit from both Sindhi and Hindi: ask, do not guess.
    res = CAT.resolve("sindi")
    assert res.kind == "none"
    assert {"snd", "hin"} <= {x.id for x in res.suggestions}
    # Four letters are too few for a safe typo; offer, do not match.
    res = CAT.resolve("Serb")
    assert res.kind == "none" and "srp" in {x.id for x in res.suggestions}


def test_absurdly_long_input_is_cheap_and_safe():
    for text in ("spanish " * 200_000, "x" * 1_000_000, "9" * 1_000_000, "🙂" * 100_000):
        start = time.perf_counter()
        res = CAT.resolve(text)
        assert time.perf_counter() - start < 0.05
        assert res.kind in ("match", "ambiguous", "none")
    assert CAT.resolve("spanish " * 200_000).language.id == "spa"


def test_table_covers_at_least_150_inputs():
    total = len(MATCHES) + len(AMBIGUOUS) + len(GARBAGE) + len(SUGGESTS)
    assert total >= 150, total


def test_resolution_is_deterministic():
    for text in ("Chinese", "spansh", "I need Spanish please", "china"):
        assert CAT.resolve(text) == CAT.resolve(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_never_raises(text):
    res = CAT.resolve(text)
    assert res.kind in ("match", "ambiguous", "none")
    if res.kind == "match":
        assert res.language is not None
    if res.kind == "ambiguous":
        assert len(res.choices) >= 2
