"""The census import: the sample ACS file, its gaps, and bad files refused with file:line: reason
(nothing stored from them). Through the real `flask coverage import-acs` command."""

from __future__ import annotations

import csv
import io

import pytest

from config.acs import parse_acs
from config.errors import ConfigError
from config.settings import ROOT
from dispatch.census import limited_by_group
from dispatch.census_store import CensusStore

SAMPLE = ROOT / "config" / "acs_b16001.sample.csv"
HEAD = (
    "Geography,Geographic Area Name,Estimate!!Total:,Estimate!!Total:!!Spanish:,"
    '"Estimate!!Total:!!Spanish:!!Speak English less than ""very well"""'
)


def run(app, *args):
    return app.test_cli_runner().invoke(args=["coverage", "import-acs", *map(str, args)])


def test_the_sample_imports_with_its_gaps_reported(app, r):
    result = run(app, SAMPLE)
    assert result.exit_code == 0, result.output
    assert "imported 6 geographies, 9 language groups from acs_b16001.sample.csv" in result.output
    assert "gap: 'Other and unspecified languages' maps to no catalog language" in result.output
    assert result.output.count("gap:") == 1  # every other group of the sample is mapped
    census = CensusStore(r).load()
    assert set(census) == {g for p in app.extensions["wiring"].ctx.roster.precincts for g in p.geographies}
    # The figures are the file's: a tract's Spanish speakers and those with limited English.
    with open(SAMPLE, newline="") as fh:
        rows = list(csv.reader(fh))
    labels, first = rows[1], rows[2]
    total = first[labels.index("Estimate!!Total:!!Spanish:")]
    limited = first[labels.index('Estimate!!Total:!!Spanish:!!Speak English less than "very well"')]
    assert census[first[0]]["Spanish"].speakers == int(total)
    assert census[first[0]]["Spanish"].limited == int(limited)
    assert CensusStore(r).about()["source"] == "acs_b16001.sample.csv"


def test_a_group_the_mapping_does_not_list_is_reported(app, tmp_path):
    bad = tmp_path / "acs.csv"
    bad.write_text(
        HEAD + ',Estimate!!Total:!!Klingon:,"Estimate!!Total:!!Klingon:!!Speak English less than ""very well"""\n'
        "1400000US36047990101,Tract,100,50,20,7,3\n"
    )
    result = run(app, bad)
    assert result.exit_code == 0, result.output
    assert "gap: 'Klingon' is not in acs_language_groups.csv" in result.output
    assert "the roster names geography 1400000US36081990201 that acs.csv does not have" in result.output


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", 1, 'no header row with a "Geography"'),
        ("Geography,Name\n1400000US36047990101,x\n", 1, 'no header row with a "Geography"'),
        (HEAD + "\n1400000US36047990101,Tract,100,50\n", 2, "4 fields, the header has 5"),
        (HEAD + "\n1400000US36047990101,Tract,100,fifty,20\n", 2, "'fifty' is not a count"),
        (HEAD + "\n1400000US36047990101,Tract,100,50,20\n1400000US36047990101,Tract,1,1,1\n", 3, "given twice"),
        (HEAD + "\n1400000US36047990101,Tract,100,20,50\n", 2, "Spanish: 50 limited-English of 20 speakers"),
        (HEAD + "\n,Tract,100,50,20\n", 2, "geography '' is empty"),
        ("Geography,Estimate!!Total:,Estimate!!Total:!!Spanish:\nx,1,1\n", 1, 'Spanish: no "Speak English less than'),
        (HEAD + "\n", None, "no geography rows"),
    ],
)
def test_a_bad_file_is_refused_with_file_line_and_reason_and_nothing_is_stored(app, r, tmp_path, text, line, reason):
    assert run(app, SAMPLE).exit_code == 0
    before = CensusStore(r).load()
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    result = run(app, bad)
    assert result.exit_code != 0
    where = f"{bad}:{line}: " if line else f"{bad}: "
    assert where in result.output and reason in result.output, result.output
    assert CensusStore(r).load() == before


def test_a_missing_file_and_a_bad_mapping_are_named(app, tmp_path):
    assert "file not found" in run(app, tmp_path / "none.csv").output
    groups = tmp_path / "groups.csv"
    groups.write_text("group,languages\nSpanish,spa\nHaitian,xx-not-a-language\n")
    result = run(app, SAMPLE, "--groups", groups)
    assert result.exit_code != 0
    assert f"{groups}:3: Haitian: unknown language 'xx-not-a-language'" in result.output


def test_a_data_census_gov_download_is_read_past_its_code_row():
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["GEO_ID", "NAME", "B16001_001E", "B16001_003E", "B16001_005E"])
    writer.writerow(next(csv.reader([HEAD])))
    writer.writerow(["1400000US36047990101", "Tract", "1,200", "300", "-"])
    census = parse_acs(text.getvalue(), "dl.csv")
    assert census["1400000US36047990101"]["Spanish"].speakers == 300
    assert census["1400000US36047990101"]["Spanish"].limited == 0  # "-": no estimate
    assert limited_by_group(census) == {"spanish": 0}
    with pytest.raises(ConfigError):
        parse_acs("GEO_ID,NAME\n", "dl.csv")


def test_the_roster_geographies_are_validated_with_file_and_line(tmp_path):
    from config.roster import load_roster

    sample = (ROOT / "config" / "roster.sample.yaml").read_text()
    bad = tmp_path / "roster.yaml"
    bad.write_text(sample.replace("1400000US36047990102]", "tract 12]", 1))
    with pytest.raises(ConfigError) as err:
        load_roster(bad, lambda code: code)
    line = next(n for n, t in enumerate(bad.read_text().splitlines(), 1) if "tract 12" in t)
    assert str(err.value).startswith(f"{bad}:{line}: precincts[0].geographies[1]: 'tract 12' is not an ACS GEO_ID")
