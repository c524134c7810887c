"""Reading the census files: an ACS B16001-shaped CSV, and the group -> catalog language mapping.

The CSV is what data.census.gov downloads for table B16001 (or C16001): a geography column
("Geography" or "GEO_ID"), optionally the area's name, and per language group the columns

    Estimate!!Total:!!Spanish:                                             speakers
    Estimate!!Total:!!Spanish:!!Speak English less than "very well"        limited English

(a first row of variable codes, B16001_001E..., is skipped; margins of error, "Speak only
English" and "very well" columns are ignored). Any problem stops the import with
`file:line: reason`; nothing is stored from a bad file.
"""

from __future__ import annotations

import csv
import io
import os
import re
from typing import Any

from config.errors import ConfigError
from config.yaml_nodes import KnownLanguage
from dispatch.census import Census, GroupFigures, GroupMap, group_key

MAX_BYTES = 64 * 1024 * 1024  # a whole state's tracts is a few MB
MAX_FIELD = 512
GEOGRAPHY_COLUMNS = ("geography", "geo_id")
MISSING = {"", "-", "N", "(X)", "null", "*****"}  # the ACS's marks for "no estimate"
_TOTAL = re.compile(r"Estimate!!Total:?!!(?P<group>[^!]+?):?$")
_LIMITED = re.compile(r'Estimate!!Total:?!!(?P<group>[^!]+?):?!!Speak English less than ""?very well""?:?$')
_GEOGRAPHY = re.compile(r"[\w.:/ -]{1,64}")


def _read_text(path: str, what: str) -> str:
    try:
        if os.path.getsize(path) > MAX_BYTES:
            raise ConfigError(path, reason=f"larger than {MAX_BYTES // 2**20} MB: not {what}")
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise ConfigError(path, reason="file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, reason=f"is a directory, not {what}") from None
    except OSError as exc:
        raise ConfigError(path, reason=f"cannot read the file: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(path, line, reason=f"not UTF-8 text (byte 0x{raw[exc.start]:02x})") from None


def load_acs(path: str | os.PathLike[str]) -> Census:
    name = os.fspath(path)
    return parse_acs(_read_text(name, "an ACS table"), name)


def _count(text: str, path: str, line: int, column: str) -> int:
    value = text.strip().replace(",", "")
    if value in MISSING:
        return 0
    if not value.isdigit():
        raise ConfigError(path, line, reason=f"{column}: {text[:40]!r} is not a count (a whole number)")
    return int(value)


def parse_acs(text: str, path: str = "<acs>") -> Census:
    """The table's figures per geography and ACS group label (as the file writes it)."""
    csv.field_size_limit(MAX_FIELD * 4)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header, header_line = _header(reader, path)
        columns = _columns(header, header_line, path)
        geo_col = next(i for i, h in enumerate(header) if h.strip().casefold() in GEOGRAPHY_COLUMNS)
        census: Census = {}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ConfigError(path, line, reason=f"{len(row)} fields, the header has {len(header)}")
            geography = row[geo_col].strip()
            if not _GEOGRAPHY.fullmatch(geography):
                raise ConfigError(path, line, reason=f"geography {geography[:40]!r} is empty or not an ACS GEO_ID")
            if geography in census:
                raise ConfigError(path, line, reason=f"geography {geography!r} is given twice")
            groups = {}
            for group, (total_col, limited_col) in columns.items():
                speakers = _count(row[total_col], path, line, header[total_col])
                limited = _count(row[limited_col], path, line, header[limited_col])
                if limited > speakers:
                    raise ConfigError(path, line, reason=f"{group}: {limited} limited-English of {speakers} speakers")
                if speakers:
                    groups[group] = GroupFigures(speakers, limited)
            census[geography] = groups
    except csv.Error as exc:
        raise ConfigError(path, reader.line_num, reason=f"not a CSV table: {exc}") from None
    if not census:
        raise ConfigError(path, reason="no geography rows after the header")
    return census


def _header(reader: Any, path: str) -> tuple[list[str], int]:  # a csv.reader (its type is private)
    """The label row: the first with a geography column whose other cells are not variable codes."""
    for row in reader:
        labels = [h.strip().casefold() for h in row]
        if any(h in GEOGRAPHY_COLUMNS for h in labels) and any("!!" in h for h in row):
            return row, reader.line_num
        if reader.line_num >= 3:
            break
    raise ConfigError(
        path, 1, reason='no header row with a "Geography" (or GEO_ID) column and "Estimate!!Total:!!<group>:" columns'
    )


def _columns(header: list[str], line: int, path: str) -> dict[str, tuple[int, int]]:
    totals: dict[str, int] = {}
    limited: dict[str, int] = {}
    for i, label in enumerate(header):
        text = label.strip()
        if len(text) > MAX_FIELD:
            raise ConfigError(path, line, reason=f"column {i + 1}: a label longer than {MAX_FIELD} characters")
        if (m := _LIMITED.match(text)) is not None:
            limited[m["group"].strip()] = i
        elif (m := _TOTAL.match(text)) is not None and "!!Speak " not in text:
            group = m["group"].strip()
            if group_key(group) != "speak only english":
                totals[group] = i
    if not totals:
        raise ConfigError(path, line, reason='no language group columns ("Estimate!!Total:!!<group>:")')
    for group in totals:
        if group not in limited:
            raise ConfigError(path, line, reason=f'{group}: no "Speak English less than \\"very well\\"" column')
    for group in limited:
        if group not in totals:
            raise ConfigError(path, line, reason=f"{group}: a limited-English column without its total")
    return {group: (totals[group], limited[group]) for group in totals}


def load_group_map(path: str | os.PathLike[str], known_language: KnownLanguage) -> GroupMap:
    """The mapping file: `group,languages` rows, languages space separated catalog codes or
    names (empty: a known gap); '#' lines are comments."""
    name = os.fspath(path)
    reader = csv.reader(io.StringIO(_read_text(name, "a mapping file"), newline=""))
    groups: dict[str, tuple[str, ...]] = {}
    labels: dict[str, str] = {}
    lines: dict[str, int] = {}
    saw_header = False
    for row in reader:
        line = reader.line_num
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if not saw_header:
            if [c.strip() for c in row] != ["group", "languages"]:
                raise ConfigError(name, line, reason='the first row must be the header "group,languages"')
            saw_header = True
            continue
        if len(row) != 2:
            raise ConfigError(name, line, reason=f"{len(row)} fields; expected group,languages")
        label, codes = row[0].strip(), row[1].split()
        key = group_key(label)
        if not key:
            raise ConfigError(name, line, reason="the group is empty")
        if key in groups:
            raise ConfigError(name, line, reason=f"{label!r} is listed twice (first on line {lines[key]})")
        languages = []
        for code in codes:
            canonical = known_language(code)
            if canonical is None:
                raise ConfigError(name, line, reason=f"{label}: unknown language {code!r} (not in the catalog)")
            languages.append(canonical)
        groups[key], labels[key], lines[key] = tuple(dict.fromkeys(languages)), label, line
    if not groups:
        raise ConfigError(name, reason="no group rows")
    return GroupMap(groups=groups, labels=labels)
