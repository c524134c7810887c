"""Where residents with limited English live: the American Community Survey's language table
(B16001, "Language spoken at home by ability to speak English") as the coverage report reads it.

The ACS counts language *groups* ("Chinese (incl. Mandarin, Cantonese)", "Russian, Polish, or
other Slavic languages"), not the catalog's languages: a group's figure is shared by every
catalog language mapped to it (config/acs_language_groups.csv), and a group mapped to none is a
gap the import reports. Precincts name their census geographies in the roster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class GroupFigures:
    """One language group in one geography: who speaks it at home, and who of them speaks
    English less than "very well" (the ACS's measure of limited English)."""

    speakers: int
    limited: int


Census = dict[str, dict[str, GroupFigures]]  # geography -> ACS group label -> figures


def group_key(label: str) -> str:
    """A group label compared as the ACS writes it in any year's table: case, spaces, the
    trailing colon and quotes aside."""
    return " ".join(label.strip().strip(":").replace('"', "").split()).casefold()


@dataclass(frozen=True)
class GroupMap:
    """ACS group -> catalog languages. A group listed with no language is a known gap."""

    groups: Mapping[str, tuple[str, ...]]  # group_key -> language ids
    labels: Mapping[str, str]  # group_key -> the label as written in the mapping file

    def languages(self, group: str) -> tuple[str, ...] | None:
        """The group's languages; () for a known gap; None for a group the file does not list."""
        return self.groups.get(group_key(group))

    def group_of(self, language: str) -> str | None:
        """The group key a catalog language is counted in, if any."""
        for group, languages in self.groups.items():
            if language in languages:
                return group
        return None

    def gaps(self, census: Census) -> tuple[list[str], list[str]]:
        """(groups of the census the mapping does not list, those it maps to no language)."""
        seen = {group for groups in census.values() for group in groups}
        unlisted = sorted(label for label in seen if group_key(label) not in self.groups)
        unmapped = sorted(label for label in seen if self.groups.get(group_key(label)) == ())
        return unlisted, unmapped


def limited_by_group(census: Census, geographies: Iterable[str] | None = None) -> dict[str, int]:
    """Limited-English residents per group key over `geographies` (None: every geography)."""
    out: dict[str, int] = {}
    keys: dict[str, str] = {}
    for geography in census if geographies is None else geographies:
        for label, figures in census.get(geography, {}).items():
            key = keys.get(label) or keys.setdefault(label, group_key(label))
            out[key] = out.get(key, 0) + figures.limited
    return out


@dataclass(frozen=True)
class LimitedEnglish:
    """Limited-English residents per ACS group key, city-wide (every geography of the import) and
    per precinct (its geographies; only precincts that name some). Empty without a census."""

    city: Mapping[str, int]
    by_precinct: Mapping[str, Mapping[str, int]]

    @classmethod
    def of(cls, census: Census, geographies: Mapping[str, tuple[str, ...]]) -> LimitedEnglish:
        if not census:
            return cls({}, {})
        by_precinct = {p: limited_by_group(census, geos) for p, geos in geographies.items() if geos}
        return cls(limited_by_group(census), by_precinct)

    def __bool__(self) -> bool:
        return bool(self.city)
