"""The imported census table on Redis: replaced whole by each import, read by the coverage
report. Figures about areas, never about a person."""

from __future__ import annotations

import json
import time

import redis

from dispatch import keys
from dispatch.census import Census, GroupFigures


class CensusStore:
    def __init__(self, r: redis.Redis):
        self.r = r

    def replace(self, census: Census, source: str, gaps: list[str], groups: dict[str, list[str]]) -> None:
        """The new table, atomically in place of the old (a report never sees half of each)."""
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(keys.CENSUS, keys.CENSUS_META)
        if census:
            pipe.hset(
                keys.CENSUS,
                mapping={
                    geo: json.dumps({g: [f.speakers, f.limited] for g, f in groups.items()})
                    for geo, groups in census.items()
                },
            )
        pipe.hset(
            keys.CENSUS_META,
            mapping={
                "source": source,
                "imported_at": repr(time.time()),
                "gaps": json.dumps(gaps),
                "groups": json.dumps(groups),
            },
        )
        pipe.execute()

    def load(self) -> Census:
        return {
            _text(geo): {g: GroupFigures(int(v[0]), int(v[1])) for g, v in json.loads(raw).items()}
            for geo, raw in self.r.hgetall(keys.CENSUS).items()
        }

    def groups(self) -> dict[str, list[str]]:
        """The mapping the last import used: ACS group label -> catalog language ids."""
        raw = self.r.hget(keys.CENSUS_META, "groups")
        groups: dict[str, list[str]] = json.loads(raw) if raw else {}
        return groups

    def about(self) -> dict[str, str]:
        """The last import's file name, time (epoch), gaps and mapping (JSON); {} before any import."""
        return {_text(k): _text(v) for k, v in self.r.hgetall(keys.CENSUS_META).items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
