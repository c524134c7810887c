"""Where liaisons are missing: the coverage report computed from the period's sums, the census
and the roster. Pure: no Redis, no Flask, so its figures are checked by hand on a small set.

Definitions (the page and the CSV say the same):
- requests: every request that ended in the period (cancelled ones included);
- liaison share: requests reached by a liaison / requests;
- vendor minutes: minutes vendor interpreters were on the line; cost = minutes × the rate;
- time to interpreter p50/p90: from the histogram buckets, interpolated linearly inside the
  bucket the rank falls in (as Prometheus's histogram_quantile); past the last bound, that bound;
- unmet: requests that went to the vendor, were abandoned or failed (no liaison took them),
  per hour of the week in the department's time zone;
- limited English: residents who speak the language's ACS group at home and English less than
  "very well", in the precinct's geographies (the whole group's figure for each of its languages).
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from dispatch.census import LimitedEnglish, group_key
from dispatch.coverage_cells import HOURS_OF_WEEK, LIAISON, OUTCOME_INDEX, OUTCOMES, VENDOR, Tallies, Tally
from dispatch.languages import Catalog
from dispatch.roster import Roster
from dispatch.stats import TTI_BUCKETS

PERIODS = (7, 30, 365)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_PRIORITIES = 20


class PeriodError(ValueError):
    """A period the report cannot show; the message says why, for the page."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    name: str  # "7", "30", "365" or "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_from(args: Mapping[str, str], today: date, kept_days: int) -> Period:
    """The period a query asks for: `period=7|30|365` (ending today), or `period=custom` with
    `from` and `to` (YYYY-MM-DD, inclusive, within the figures' retention, not in the future)."""
    name = (args.get("period") or "30")[:10]
    if name in {str(n) for n in PERIODS}:
        return Period(today - timedelta(days=int(name) - 1), today, name)
    if name != "custom":
        raise PeriodError("choose a period of 7, 30 or 365 days, or a custom range")
    try:
        start = date.fromisoformat((args.get("from") or "")[:10])
        end = date.fromisoformat((args.get("to") or "")[:10])
    except ValueError:
        raise PeriodError("a custom range needs a start and an end date (YYYY-MM-DD)") from None
    if start > end:
        raise PeriodError("the range starts after it ends")
    if end > today:
        raise PeriodError(f"the range ends in the future (today is {today.isoformat()})")
    if start < today - timedelta(days=kept_days):
        raise PeriodError(f"figures are kept {kept_days} days: start on {today - timedelta(days=kept_days)} or later")
    return Period(start, end, "custom")


def quantile(buckets: list[int], q: float, total: int | None = None) -> float | None:
    """The q-th percentile (0-100) from time-to-interpreter bucket counts; None when empty."""
    total = sum(buckets) if total is None else total
    if not total:
        return None
    rank = total * q / 100
    seen = 0
    for i, n in enumerate(buckets):
        if n and seen + n >= rank:
            if i >= len(TTI_BUCKETS):
                return float(TTI_BUCKETS[-1])
            low = float(TTI_BUCKETS[i - 1]) if i else 0.0
            return low + (float(TTI_BUCKETS[i]) - low) * (rank - seen) / n
        seen += n
    return float(TTI_BUCKETS[-1])


def hour_label(slot: int) -> str:
    return f"{DAYS[slot // 24]} {slot % 24:02d}:00"


@dataclass(frozen=True)
class Row:
    """One precinct × language over the period."""

    precinct: str
    precinct_name: str
    language: str
    language_name: str
    requests: int
    by_outcome: dict[str, int]
    liaison_share: float | None
    vendor_minutes: float
    vendor_cost: float | None
    p50: float | None
    p90: float | None
    unmet: int
    unmet_by_hour: Mapping[int, int]  # hour of week -> unmet requests
    limited_english: int | None  # None: no census figure for this precinct and language
    liaisons: int  # roster liaisons who speak the language

    @property
    def unmet_hours(self) -> tuple[tuple[int, int], ...]:
        """The three hours of the week with the most unmet requests: (hour of week, count)."""
        return tuple(sorted(self.unmet_by_hour.items(), key=lambda kv: (-kv[1], kv[0]))[:3])


@dataclass(frozen=True)
class Priority:
    """A language to recruit liaisons for, and why."""

    rank: int
    language: str  # a catalog id; for an ACS group of several languages, the group's key
    language_name: str
    vendor_minutes: float
    vendor_cost: float | None
    unmet: int
    limited_english: int | None
    liaisons: int
    why: str


@dataclass(frozen=True)
class Report:
    period: Period
    rows: tuple[Row, ...]  # the most unmet first (all of them, or the first rows_limit)
    row_count: int  # precinct × language pairs in the period
    priorities: tuple[Priority, ...]
    unmet_by_hour: tuple[int, ...]  # HOURS_OF_WEEK counts, Monday 00:00 first
    requests: int
    liaison_share: float | None
    vendor_minutes: float
    vendor_cost: float | None
    has_census: bool


@dataclass(frozen=True)
class Places:
    """What the report needs of the roster and catalog, as plain lookups."""

    precinct_names: Mapping[str, str]
    precinct_geographies: Mapping[str, tuple[str, ...]]
    liaisons_by_language: Mapping[str, int]
    language_name: Callable[[str], str]
    language_groups: Mapping[str, str]  # language id -> ACS group key (from the import's mapping)
    group_labels: Mapping[str, str] = field(default_factory=dict)  # ACS group key -> its label


def _cost(minutes: float, rate: float) -> float | None:
    return round(minutes * rate, 2) if rate > 0 else None


def build(
    tallies: Tallies,
    limited_english: LimitedEnglish,
    places: Places,
    rate: float,
    period: Period,
    rows_limit: int | None = None,
) -> Report:
    """The report's tables from the period's sums; with `rows_limit`, only that many precinct ×
    language rows (the most unmet) are made, the totals, hours and priorities still from all."""
    by_hour = [0] * HOURS_OF_WEEK
    vendor, liaison = OUTCOME_INDEX[VENDOR], OUTCOME_INDEX[LIAISON]
    minutes_by_language: dict[str, float] = {}
    unmet_by_language: dict[str, int] = {}
    order = []
    total = reached = 0
    for (precinct, language), t in tallies.items():
        requests = sum(t.counts)
        if not requests:
            continue
        minutes = t.seconds[vendor] / 60
        unmet = 0
        for slot, n in t.unmet.items():
            by_hour[slot] += n
            unmet += n
        total += requests
        reached += t.counts[liaison]
        minutes_by_language[language] = minutes_by_language.get(language, 0.0) + minutes
        unmet_by_language[language] = unmet_by_language.get(language, 0) + unmet
        order.append((-unmet, -minutes, -requests, precinct, language, t))
    chosen = sorted(order) if rows_limit is None else heapq.nsmallest(rows_limit, order)
    rows = tuple(_row(precinct, language, t, limited_english, places, rate) for *_, precinct, language, t in chosen)
    minutes = sum(minutes_by_language.values())
    return Report(
        period=period,
        rows=rows,
        row_count=len(order),
        priorities=priorities(minutes_by_language, unmet_by_language, limited_english, places, rate),
        unmet_by_hour=tuple(by_hour),
        requests=total,
        liaison_share=reached / total if total else None,
        vendor_minutes=minutes,
        vendor_cost=_cost(minutes, rate),
        has_census=bool(limited_english),
    )


def _row(precinct: str, language: str, t: Tally, limited_english: LimitedEnglish, places: Places, rate: float) -> Row:
    requests = sum(t.counts)
    minutes = t.secs(VENDOR) / 60
    group = places.language_groups.get(language)
    by_precinct = limited_english.by_precinct
    tti = sum(t.buckets)
    return Row(
        precinct=precinct,
        precinct_name=places.precinct_names.get(precinct, precinct),
        language=language,
        language_name=places.language_name(language),
        requests=requests,
        by_outcome=dict(zip(OUTCOMES, t.counts, strict=True)),
        liaison_share=t.n(LIAISON) / requests,
        vendor_minutes=minutes,
        vendor_cost=_cost(minutes, rate),
        p50=quantile(t.buckets, 50, tti),
        p90=quantile(t.buckets, 90, tti),
        unmet=sum(t.unmet.values()),
        unmet_by_hour=t.unmet,
        limited_english=by_precinct[precinct].get(group, 0) if group and precinct in by_precinct else None,
        liaisons=places.liaisons_by_language.get(language, 0),
    )


def priorities(
    minutes: Mapping[str, float],
    unmet: Mapping[str, int],
    limited_english: LimitedEnglish,
    places: Places,
    rate: float,
) -> tuple[Priority, ...]:
    """Languages ranked for recruiting: by vendor minutes; and by limited-English residents, the
    ACS groups none of whose languages a liaison speaks (a group of several languages is one
    entry, named by its label: the census cannot say which of them its residents speak). An
    entry's rank is the better of its two places. `minutes` and `unmet` are per language."""
    city = limited_english.city
    members: dict[str, list[str]] = {}
    for lang, group in places.language_groups.items():
        members.setdefault(group, []).append(lang)

    def entry(group: str) -> str:  # a one-language group is that language's entry
        langs = members[group]
        return langs[0] if len(langs) == 1 else "group:" + group

    limited = {lang: city[g] for lang, g in places.language_groups.items() if city.get(g)}
    limited.update({entry(g): city[g] for g in members if city.get(g)})
    uncovered = [
        entry(g)
        for g, langs in members.items()
        if city.get(g) and not any(places.liaisons_by_language.get(lang) for lang in langs)
    ]
    by_minutes = [lang for lang in sorted(minutes, key=lambda k: (-minutes[k], k)) if minutes[lang] > 0]
    by_limited = sorted(uncovered, key=lambda k: (-limited[k], k))
    place: dict[str, tuple[int, str]] = {}
    for i, key in enumerate(by_minutes, 1):
        place[key] = (i, f"#{i} by vendor minutes")
    for i, key in enumerate(by_limited, 1):
        why = f"#{i} by limited-English residents, no liaison"
        if key not in place:
            place[key] = (i, why)
        elif i < place[key][0]:
            place[key] = (i, f"{why}; {place[key][1]}")
        else:
            place[key] = (place[key][0], f"{place[key][1]}; {why}")
    order = sorted(place, key=lambda k: (place[k][0], -minutes.get(k, 0.0), -limited.get(k, 0), k))

    def name(key: str) -> str:
        group = key.removeprefix("group:")
        return places.group_labels.get(group, group) if key.startswith("group:") else places.language_name(key)

    return tuple(
        Priority(
            rank=n,
            language=key.removeprefix("group:"),
            language_name=name(key),
            vendor_minutes=minutes.get(key, 0.0),
            vendor_cost=_cost(minutes.get(key, 0.0), rate),
            unmet=unmet.get(key, 0),
            limited_english=limited.get(key),
            liaisons=places.liaisons_by_language.get(key, 0),
            why=place[key][1],
        )
        for n, key in enumerate(order[:MAX_PRIORITIES], 1)
    )


def places(roster: Roster, catalog: Catalog, groups: Mapping[str, list[str]]) -> Places:
    """The roster's precincts and liaisons, the catalog's names and the census import's mapping
    (`groups`: ACS group label -> language ids) as the report reads them."""
    liaisons: dict[str, int] = {}
    for liaison in roster.liaisons:
        for lang in liaison.languages:
            liaisons[lang] = liaisons.get(lang, 0) + 1

    @functools.cache
    def name(language: str) -> str:
        found = catalog.get(language)
        return found.name if found else ("Unknown language" if language == "und" else language)

    return Places(
        precinct_names={p.id: p.name for p in roster.precincts},
        precinct_geographies={p.id: p.geographies for p in roster.precincts},
        liaisons_by_language=liaisons,
        language_name=name,
        language_groups={lang: group_key(label) for label, langs in groups.items() for lang in langs},
        group_labels={group_key(label): label for label in groups},
    )
