"""Catalog invariants, lookups, load-time validation and the generated code card."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import langcodes
import pytest

from dispatch.languages import Catalog, Language, default_catalog, load_catalog
from dispatch.languages.card import CARD_PATH, render_markdown
from dispatch.languages.catalog import COLUMNS, DEFAULT_PATH

CAT = default_catalog()

# Every language the issue names, by the catalog id it must have.
ISSUE_LANGUAGES = {
    "Mandarin": "cmn",
    "Cantonese": "yue",
    "Fuzhounese": "cdo",
    "Toisanese": "yue-x-taishan",
    "Haitian Creole": "hat",
    "Bengali": "ben",
    "Punjabi": "pan",
    "Urdu": "urd",
    "Nepali": "nep",
    "Tibetan": "bod",
    "Albanian": "sqi",
    "Bosnian": "bos",
    "Croatian": "hrv",
    "Serbian": "srp",
    "Yiddish": "yid",
    "Wolof": "wol",
    "Pulaar": "ful",
    "Fulani": "ful",
    "Soninke": "snk",
    "Mandinka": "mnk",
    "Twi": "twi",
    "Garifuna": "cab",
    "Mixteco": "mix",
    "K'iche'": "quc",
    "Mam": "mam",
    "Quechua": "que",
    "Nahuatl": "nhe",
    "Dari": "prs",
    "Pashto": "pus",
    "Tigrinya": "tir",
    "Spanish": "spa",
    "Russian": "rus",
    "Arabic": "ara",
    "Korean": "kor",
}
BIG_EIGHT = {"spa", "cmn", "yue", "rus", "ben", "hat", "ara", "kor"}


def test_at_least_200_languages():
    assert len(CAT.all()) >= 200


def test_ids_keypads_vendor_codes_and_ranks_are_unique():
    langs = CAT.all()
    for field in ("id", "keypad", "vendor_code", "rank"):
        values = [getattr(x, field) for x in langs]
        assert len(values) == len(set(values)), field


def test_keypad_codes_respect_reserved_digits():
    for lang in CAT.all():
        assert lang.keypad.isdigit() and lang.keypad.isascii(), lang
        assert lang.keypad not in ("0", "9"), lang
        assert not lang.keypad.startswith(("0", "9")), lang
        assert 1 <= len(lang.keypad) <= 3, lang


def test_most_requested_get_the_shortest_codes():
    langs = CAT.all()
    assert {x.id for x in langs[:8]} == BIG_EIGHT
    assert sorted(x.keypad for x in langs[:8]) == [str(d) for d in range(1, 9)]
    lengths = [len(x.keypad) for x in langs]
    assert lengths == sorted(lengths), "a less requested language has a shorter code"
    assert any(n == 2 for n in lengths) and any(n == 3 for n in lengths)


def test_vendor_codes_are_digits_following_the_documented_scheme():
    for lang in CAT.all():
        assert lang.vendor_code.isdigit()
        assert lang.vendor_code == lang.keypad.zfill(3)  # the initial assignment scheme


def test_all_is_sorted_by_rank_and_top_is_a_prefix():
    ranks = [x.rank for x in CAT.all()]
    assert ranks == sorted(ranks)
    assert CAT.top(8) == CAT.all()[:8]
    assert CAT.top(0) == () and CAT.top(-3) == ()


@pytest.mark.parametrize("name,lang_id", sorted(ISSUE_LANGUAGES.items()))
def test_every_language_named_in_the_issue_is_present(name, lang_id):
    assert CAT.get(lang_id) is not None, lang_id
    res = CAT.resolve(name)
    assert res.kind == "match" and res.language.id == lang_id, (name, res)


def test_twilio_voice_and_hold_sentence_go_together():
    voiced = [x for x in CAT.all() if x.twilio_voice]
    assert len(voiced) >= 30
    for lang in CAT.all():
        assert bool(lang.twilio_voice) == bool(lang.hold_sentence), lang.id
        if lang.twilio_voice:
            assert re.fullmatch(r"[a-z]{2,3}(-[A-Z]{2})?", lang.twilio_voice)
    assert CAT.get("es").twilio_voice == "es-US"
    assert CAT.get("cmn").twilio_voice == "cmn-CN"
    assert CAT.get("yue").twilio_voice == "yue-HK"
    assert CAT.get("hat").twilio_voice is None  # no Haitian Creole TTS voice


def test_entries_are_complete_and_iso_codes_are_real():
    for lang in CAT.all():
        assert lang.name and lang.endonym, lang.id
        assert re.fullmatch(r"[a-z]{3}", lang.iso639_3)
        assert langcodes.Language.get(lang.iso639_3).is_valid()
        assert lang.iso639_1 is None or re.fullmatch(r"[a-z]{2}", lang.iso639_1)
        if "-x-" in lang.id:
            assert lang.id.startswith(lang.iso639_3 + "-x-")
        else:
            assert lang.id == lang.iso639_3


def test_private_keys_and_representative_codes():
    toisan = CAT.get("yue-x-taishan")
    assert toisan.name == "Toisanese" and toisan.iso639_3 == "yue" and toisan.iso639_1 is None
    assert CAT.get("prs").name == "Dari" and CAT.get("prs").iso639_1 is None
    assert CAT.get("mix").name == "Mixtec"
    assert CAT.get("tgl").iso639_1 == "tl"


@pytest.mark.parametrize(
    "key,lang_id",
    [
        ("spa", "spa"),
        ("SPA", "spa"),
        ("es", "spa"),
        ("Es", "spa"),
        (" es ", "spa"),
        ("cmn", "cmn"),
        ("zh", "cmn"),
        ("ZH-cn", "cmn"),
        ("zh_TW", "cmn"),
        ("yue", "yue"),
        ("yue-x-taishan", "yue-x-taishan"),
        ("YUE-X-TAISHAN", "yue-x-taishan"),
        ("ht", "hat"),
        ("fa", "fas"),
        ("per", "fas"),
        ("prs", "prs"),
        ("tl", "tgl"),
        ("fil", "tgl"),
        ("ff", "ful"),
        ("fuc", "ful"),
        ("nah", "nhe"),
        ("no", "nor"),
        ("alb", "sqi"),
        ("ger", "deu"),
    ],
)
def test_get_by_any_code_in_any_case(key, lang_id):
    assert CAT.get(key).id == lang_id


@pytest.mark.parametrize("key", ["", "xx", "zzz", "spanish", None, 42, "a" * 1000])
def test_get_unknown_returns_none(key):
    assert CAT.get(key) is None


@pytest.mark.parametrize(
    "digits,lang_id",
    [
        ("1", "spa"),
        ("1#", "spa"),
        (" 2 # ", "cmn"),
        ("6", "hat"),
        ("10", "urd"),
    ],
)
def test_by_keypad(digits, lang_id):
    assert CAT.by_keypad(digits).id == lang_id


@pytest.mark.parametrize("digits", ["0", "9", "", "#", "999", "00001", None])
def test_by_keypad_unknown(digits):
    assert CAT.by_keypad(digits) is None


def test_default_catalog_is_cached():
    assert default_catalog() is CAT


def test_language_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CAT.get("es").name = "x"  # type: ignore[misc]


# ----------------------------------------------------------- load-time validation

HEADER = ",".join(COLUMNS)
GOOD = "spa,,1,1,001,,,Castellano,,es-US,Hola.,\n"


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "languages.csv"
    path.write_text("# comment line\n" + header + "\n" + body, encoding="utf-8")
    return path


def test_minimal_file_loads(tmp_path):
    cat = load_catalog(_write(tmp_path, GOOD + "fra,,2,2,002,,,,,,,\n"))
    assert isinstance(cat, Catalog) and len(cat) == 2
    assert cat.get("fr").name == "French"  # name derived from langcodes
    assert cat.get("es").endonym == "español"  # autonym derived from langcodes
    assert cat.resolve("castellano").language.id == "spa"


@pytest.mark.parametrize(
    "body,line,reason",
    [
        ("spa,,1,1,001\n", 3, "expected 12 cells"),
        ("qqq,,1,1,001,,,,,,,\n", 3, "unknown ISO 639-3 code 'qqq'"),
        ("Spanish,,1,1,001,,,,,,,\n", 3, "bad id"),
        (GOOD + "spa,,2,2,002,,,,,,,\n", 4, "duplicate id 'spa'"),
        (GOOD + "fra,,2,1,002,,,,,,,\n", 4, "duplicate keypad '1'"),
        (GOOD + "fra,,2,2,001,,,,,,,\n", 4, "duplicate vendor_code '001'"),
        (GOOD + "fra,,1,2,002,,,,,,,\n", 4, "duplicate rank 1"),
        ("spa,,1,0,001,,,,,,,\n", 3, "reserved digit"),
        ("spa,,1,95,001,,,,,,,\n", 3, "reserved digit"),
        ("spa,,1,01,001,,,,,,,\n", 3, "reserved digit"),
        ("spa,,1,1a,001,,,,,,,\n", 3, "must be 1 to 3 digits"),
        ("spa,,1,1234,001,,,,,,,\n", 3, "must be 1 to 3 digits"),
        ("spa,,one,1,001,,,,,,,\n", 3, "not a whole number"),
        ("spa,,0,1,001,,,,,,,\n", 3, "must be 1 or more"),
        ("spa,,1,1,A1,,,,,,,\n", 3, "vendor_code"),
        ("spa,,1,1,001,,,,,es-US,,\n", 3, "hold_sentence is empty"),
        ("spa,,1,1,001,,,,,,Hola.,\n", 3, "twilio_voice is empty"),
        ("spa,,1,1,001,,,,,spanish,Hola.,\n", 3, "not a locale"),
        ("spa,ESP,1,1,001,,,,,,,\n", 3, "bad iso639_1"),
        (GOOD + "fra,,2,2,002,,,,es,,,\n", 4, "code 'es' already belongs to spa"),
        ("spa,,1,1,001,,,,bad code!,,,\n", 3, "bad code"),
        ("", 2, "no languages"),
    ],
)
def test_malformed_file_fails_with_file_line_and_reason(tmp_path, body, line, reason):
    path = _write(tmp_path, body)
    with pytest.raises(ValueError) as err:
        load_catalog(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert reason in message


def test_wrong_header_is_reported(tmp_path):
    path = _write(tmp_path, GOOD, header="id,name")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}:2: header must be"):
        load_catalog(path)


def test_empty_file_is_reported(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("# only a comment\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no header row"):
        load_catalog(path)


def test_default_path_is_config_languages_csv():
    assert DEFAULT_PATH.parts[-2:] == ("config", "languages.csv")
    assert DEFAULT_PATH.exists()


# ------------------------------------------------------------------ code card


def test_committed_card_matches_the_generator():
    assert CARD_PATH.read_text(encoding="utf-8") == render_markdown(CAT), (
        "docs/language-codes.md is stale: run python -m dispatch.languages.card"
    )


def test_card_lists_every_code_top_languages_first_and_the_reserved_note():
    card = render_markdown(CAT)
    assert "**0** = language unknown" in card and "**9** = urgent" in card
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \|", card, flags=re.M)
    assert {code for code, _ in rows} == {x.keypad for x in CAT.all()}
    assert [name.strip() for _, name in rows[:3]] == ["Spanish", "Mandarin", "Cantonese"]


# ------------------------------------------------------------- dependency rule


def test_dispatch_languages_imports_neither_flask_nor_rq():
    pkg = Path(__file__).resolve().parents[1] / "dispatch" / "languages"
    for source in pkg.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+(flask|rq)\b", text, flags=re.M), source


def test_language_type_is_exported():
    assert isinstance(CAT.get("es"), Language)
