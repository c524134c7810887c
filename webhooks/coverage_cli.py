"""`flask --app wsgi coverage import-acs FILE | rebuild`: the coverage report's census data, and
its figures counted again from the records still in retention.

Run where the service's settings are (the same REDIS_URL and ROSTER_FILE).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask.cli import AppGroup

from config.acs import load_acs, load_group_map
from config.errors import ConfigError
from config.settings import ROOT
from dispatch import clock
from dispatch.census_store import CensusStore
from webhooks.deps import ctx, wiring

GROUPS_FILE = ROOT / "config" / "acs_language_groups.csv"

coverage_cli = AppGroup("coverage", help="Coverage planning: census import, figures rebuilt from records.")


def _known(code: str) -> str | None:
    catalog = ctx().catalog
    language = catalog.get(code)
    if language is None:
        found = catalog.resolve(code)
        language = found.language if found.kind == "match" and found.via != "fuzzy" else None
    return language.id if language else None


@coverage_cli.command("import-acs")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--groups",
    type=click.Path(dir_okay=False, path_type=Path),
    default=GROUPS_FILE,
    show_default=True,
    help="ACS group -> catalog languages mapping.",
)
def import_acs(file: Path, groups: Path) -> None:
    """Replace the census table with FILE, a CSV shaped like ACS B16001; report its gaps."""
    try:
        census = load_acs(file)
        mapping = load_group_map(groups, _known)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    unlisted, unmapped = mapping.gaps(census)
    roster_geos = {g for p in ctx().roster.precincts for g in p.geographies}
    missing = sorted(roster_geos - set(census))
    used = {mapping.labels[key]: list(langs) for key, langs in mapping.groups.items()}
    CensusStore(ctx().redis).replace(census, file.name, unlisted + unmapped, used)
    groups_seen = {g for figures in census.values() for g in figures}
    click.echo(f"imported {len(census)} geographies, {len(groups_seen)} language groups from {file.name}")
    for label in unlisted:
        click.echo(f"gap: {label!r} is not in {groups.name}: its residents are not shown for any language")
    for label in unmapped:
        click.echo(f"gap: {label!r} maps to no catalog language ({groups.name})")
    for geo in missing:
        click.echo(f"gap: the roster names geography {geo} that {file.name} does not have")
    unassigned = sorted(set(census) - roster_geos)
    if roster_geos and unassigned:
        click.echo(f"note: {len(unassigned)} geographies of {file.name} belong to no precinct in the roster")


@coverage_cli.command("rebuild")
@click.option(
    "--recount",
    is_flag=True,
    help="Drop the figures of the days every request of which is still on record, and count them again.",
)
def rebuild(recount: bool) -> None:
    """Count every finished request still on record that the figures do not have yet."""
    w = wiring()
    store = w.ctx.requests
    since = clock.now() - w.settings.retention_seconds
    ids = store.closed_ids(since, limit=10**9)
    records = [rec for i in range(0, len(ids), 500) for rec in store.get_many(ids[i : i + 500])]
    complete_since = None
    if recount:
        edge = datetime.fromtimestamp(since, tz=ZoneInfo(w.ctx.roster.timezone))
        complete_since = edge.date() + timedelta(days=1)
    done = w.coverage.rebuild(records, complete_since)
    click.echo(
        f"{len(records)} records in retention: {done.counted} counted now, {done.already} already counted"
        + (f"; {done.days_reset} days recounted from {complete_since}" if complete_since else "")
    )
