"""Reading a text: commands, callback numbers, URGENT, and what the words name.

Pure functions on the real catalog: no Redis, no Flask.
"""

from __future__ import annotations

import pytest

from dispatch.languages import default_catalog
from dispatch.sms.parse import MAX_BODY, clean, parse, read_language


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


@pytest.mark.parametrize(
    "body, command, args",
    [
        ("HELP", "HELP", ()),
        ("help", "HELP", ()),
        ("?", "HELP", ()),
        ("Codes", "CODES", ()),
        ("CODES.", "CODES", ()),
        ("status", "STATUS", ()),
        ("STATUS R00042", "STATUS", ("R00042",)),
        ("cancel", "CANCEL", ()),
        ("Cancel r12", "CANCEL", ("R12",)),
        ("YES", "YES", ()),
        ("yes please", "YES", ()),
        ("Si", "YES", ()),
        ("no", "NO", ()),
        ("ON", "ON", ()),
        ("on duty", "ON", ()),
        ("ON ES BN", "ON", ("ES BN",)),
        ("ON spanish, haitian creole", "ON", ("spanish", "haitian creole")),
        ("on spa/ben & rus", "ON", ("spa", "ben", "rus")),
        ("OFF", "OFF", ()),
        ("off duty", "OFF", ()),
        # A sentence that merely starts like a command is not one.
        ("No puedo respirar", None, ()),
        ("Si necesito ayuda ahora", None, ()),
        ("help me with spanish", None, ()),
        ("cancel everything now please", None, ()),
    ],
)
def test_whole_text_commands(body, command, args):
    p = parse(body)
    assert (p.command, p.args) == (command, args)


@pytest.mark.parametrize(
    "body, callback, language_text, urgent",
    [
        ("2", None, "2", False),
        ("spanish 718-555-0175", "+17185550175", "spanish", False),
        ("Spanish call me back at (718) 555-0175 URGENT", "+17185550175", "Spanish", True),
        ("1 +1 347 555 0199", "+13475550199", "1", False),
        ("1 347 555 0199 urgent", "+13475550199", "1", True),  # keypad code then a spaced number
        ("urgent ben cb 7185550175", "+17185550175", "ben", True),
        ("русский 718.555.0175", "+17185550175", "русский", False),
        ("URGENT!", None, "", True),
    ],
)
def test_callback_number_and_urgent_are_taken_out_of_the_language(body, callback, language_text, urgent):
    p = parse(body)
    assert p.callback == callback
    assert p.language_text == language_text
    assert p.urgent is urgent
    assert p.callback_invalid is False


@pytest.mark.parametrize(
    "body, kept",
    [
        ("spanish 555-0175", "spanish"),  # no area code
        ("2 555 0175", "2"),  # the keypad code survives
        ("ES 27185550175", "ES"),  # one digit too many
    ],
)
def test_a_number_that_cannot_be_dialled_is_flagged(body, kept):
    p = parse(body)
    assert p.callback is None and p.callback_invalid is True
    assert p.language_text == kept


@pytest.mark.parametrize("body", ["0", "unknown", "0 URGENT", "don't know"])
def test_unknown_language(body):
    assert parse(body).unknown_language is True


def test_body_is_capped_and_cleaned_before_anything_else():
    assert len(clean("a" * 1600)) == MAX_BODY
    assert clean("  spa\x00nish\u200b \t\n") == "spa nish"
    assert clean(None) == "" and parse("").empty and parse("   \n ").empty
    assert clean("\ud800bad") == "?bad"  # a lone surrogate cannot break the reply


@pytest.mark.parametrize(
    "text, language, via",
    [
        ("1", "spa", "keypad"),
        ("2", "cmn", "keypad"),
        ("ES", "spa", "code"),
        ("ben", "ben", "code"),
        ("bengali", "ben", "name"),
        ("Bangla", "ben", "alias"),
        ("русский", "rus", "endonym"),
        ("need spanish interpreter", "spa", None),
        ("I need a Spanish interpreter please", "spa", None),
    ],
)
def test_a_short_text_names_a_language(catalog, text, language, via):
    choice = read_language(catalog, text)
    assert choice.kind == "request" and choice.language.id == language
    if via:
        assert choice.via == via


def test_a_near_miss_is_confirmed_not_requested(catalog):
    choice = read_language(catalog, "spansh")
    assert choice.kind == "confirm" and choice.language.id == "spa" and choice.via == "fuzzy"


def test_a_shared_word_offers_a_choice(catalog):
    choice = read_language(catalog, "chinese")
    assert choice.kind == "choose" and {"cmn", "yue"} <= {c.id for c in choice.choices}


@pytest.mark.parametrize("text", ["xqzv", "🙂🙂", "12345678", "<Response><Say>hi</Say></Response>"])
def test_nothing_recognisable(catalog, text):
    assert read_language(catalog, text).kind in ("none", "confirm")
    assert read_language(catalog, text).kind != "request"
