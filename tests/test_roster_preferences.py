"""The roster's interpreter-preference keys (issue 17): a liaison's `gender`, the vendor's
`gender_codes` and the `{gender}` placeholder, read and refused like every other key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.errors import ConfigError
from config.roster import load_roster
from config.settings import ROOT

SAMPLE = (ROOT / "config" / "roster.sample.yaml").read_text()
LIAISON = '    phone: "+1 646-555-0120"\n'
TEMPLATE = '  dtmf: "ww{account}#ww{pin}#ww{language}#{gender}"\n'
CODES = '  gender_codes: {female: "ww1#", male: "ww2#", any: ""}'


def known(code: str) -> str | None:
    return code.strip().lower() if code.strip().isalpha() and len(code.strip()) == 3 else None


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "roster.yaml"
    path.write_text(text)
    return load_roster(path, known)


def error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return caught.value


def line_of(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


def test_the_sample_gives_genders_and_codes(tmp_path: Path) -> None:
    roster = load(tmp_path, SAMPLE)
    garcia, reyes = roster.liaison("l-garcia"), roster.liaison("l-reyes")
    assert (garcia.gender, reyes.gender) == ("female", "male")
    assert garcia.suits("female") and not reyes.suits("female") and reyes.suits("")
    vendor = roster.vendor
    assert vendor.gender_code("female") == "ww1#" and vendor.gender_code("") == ""
    # No preference: exactly the keys sent before the placeholder existed.
    assert vendor.dtmf_for("001", vendor.gender_code("")) == "ww123456#ww7890#ww001#"
    assert vendor.dtmf_for("001", vendor.gender_code("male")) == "ww123456#ww7890#ww001#ww2#"


def test_a_liaison_without_gender_takes_only_requests_without_a_preference(tmp_path: Path) -> None:
    text = SAMPLE.replace(LIAISON + "    gender: female\n", LIAISON)
    garcia = load(tmp_path, text).liaison("l-garcia")
    assert garcia.gender == "" and garcia.suits("") and not garcia.suits("female") and not garcia.suits("male")


def test_a_vendor_without_the_option_cannot_be_asked(tmp_path: Path) -> None:
    text = SAMPLE.replace(TEMPLATE, '  dtmf: "ww{account}#ww{pin}#ww{language}#"\n').replace(CODES, "")
    vendor = load(tmp_path, text).vendor
    assert vendor.gender_code("female") is None and vendor.gender_code("") == ""
    assert vendor.dtmf_for("001", "") == "ww123456#ww7890#ww001#"


BAD = {
    "unknown gender": (
        (LIAISON + "    gender: female\n", LIAISON + "    gender: woman\n"),
        "gender: woman",
        "liaisons[0].gender",
        "unknown gender 'woman'; use female or male",
    ),
    "codes without the placeholder": (
        (TEMPLATE, '  dtmf: "ww{account}#ww{pin}#ww{language}#"\n'),
        "  gender_codes: {",
        "vendor.gender_codes",
        "no {gender} placeholder",
    ),
    "placeholder without codes": ((CODES, ""), '  dtmf: "ww', "vendor.dtmf", "uses {gender}: give gender_codes"),
    "a code that is no DTMF": (
        (CODES, '  gender_codes: {female: "F", male: "ww2#"}'),
        "  gender_codes: {",
        "vendor.gender_codes.female",
        "digits, * # and w W",
    ),
    "an unknown code key": (
        (CODES, '  gender_codes: {women: "1"}'),
        "  gender_codes: {",
        "vendor.gender_codes.women",
        "use female, male, any",
    ),
    "an empty female code": (
        (CODES, '  gender_codes: {female: "", male: "2"}'),
        "  gender_codes: {",
        "vendor.gender_codes.female",
        "is empty",
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_a_bad_key_names_the_file_line_key_and_reason(tmp_path: Path, case: str) -> None:
    (old, new), marker, key, reason = BAD[case]
    assert old in SAMPLE
    text = SAMPLE.replace(old, new)
    err = error(tmp_path, text)
    assert (err.line, err.key) == (line_of(text, marker), key), str(err)
    assert reason in err.reason, str(err)
    assert str(err).startswith(f"{tmp_path / 'roster.yaml'}:{err.line}: {key}: ")
