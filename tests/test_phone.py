"""E.164 normalisation (how roster numbers match Twilio's From) and masking (what people see)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.phone import BULLETS, mask, to_e164


@pytest.mark.parametrize(
    "raw, region, expected",
    [
        ("+1 212-555-0100", "US", "+12125550100"),
        ("(212) 555-0100", "US", "+12125550100"),
        ("212.555.0100", "US", "+12125550100"),
        ("1-212-555-0100", "US", "+12125550100"),
        ("  +1 (718) 555-0175  ", "US", "+17185550175"),
        ("+12125550100", "US", "+12125550100"),
        ("+1 800-555-0199", "US", "+18005550199"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+880 1712-345678", "US", "+8801712345678"),
    ],
)
def test_to_e164_normalises(raw: str, region: str, expected: str) -> None:
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "empty phone number"),
        ("   ", "empty phone number"),
        ("call me", "not a phone number"),
        ("555-0175", "missing its area code"),
        ("+1 212-555-01", "too short"),
        ("+1 212-555-01000", "too long"),
        ("+1 555-555-5555", "not a valid phone number for country code +1"),
        ("+999 123 4567", "unknown country code"),
        ("212-555-0100 ext. 12", "has an extension (12)"),
        (2125550100, "expected a phone number as text"),
    ],
)
def test_to_e164_refuses_with_a_reason(raw: object, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        to_e164(raw)  # type: ignore[arg-type]
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("+17185550175", "+1•••••••0175"),
        ("+12125550100", "+1•••••••0100"),
        ("+442079460958", "+44•••••••0958"),
        ("+8801712345678", "+880•••••••5678"),
        ("sip:+17185550175@pbx.example", "•••••••0175"),
        ("anonymous", "•••••••"),
        ("client:officer.jones", "•••••••"),
        ("12345", "•••••••"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_keeps_only_country_code_and_last_four(raw: str | None, expected: str) -> None:
    assert mask(raw) == expected  # type: ignore[arg-type]


def test_masks_do_not_reveal_the_number_length() -> None:
    assert len(mask("+12125550100")) - 2 == len(mask("+442079460958")) - 3 == len(BULLETS) + 4


@given(st.text())
def test_mask_never_raises_and_never_keeps_letters(raw: str) -> None:
    masked = mask(raw)
    assert not re.search(r"[^0-9+•]", masked.replace(BULLETS, ""))


@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_mask_of_e164_shows_at_most_country_code_and_last_four(number: str) -> None:
    masked = mask(number)
    shown = re.sub(r"[^0-9]", "", masked)
    assert masked.startswith("+") and masked.endswith(number[-4:])
    assert len(shown) <= 4 + 3  # last four plus a country code of at most three digits
    assert number[1:].startswith(shown[:-4])
