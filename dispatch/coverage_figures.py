"""Coverage figures on Redis: written once at each request's end, kept for years, summed for a
period.

- One hash per local day (keys.coverage_day): cell "precinct|language|hour|outcome" -> packed
  ints (dispatch.coverage_cells). It expires COVERAGE_RETENTION_DAYS after its day, long after
  the records it was counted from (RETENTION_SECONDS).
- Counting is one Lua script that first sets a per-request marker (keys.coverage_counted, which
  expires with the record): a replayed end, a second listener or a rebuild never count twice.
- A finished month is summed once into a cache (keys.coverage_month); a count for that month
  drops the cache, and a cache built while a count landed is not stored (the month's version).
- A standard period's days before yesterday are summed once more into one value
  (keys.coverage_period, named by a version that a count on one of those days bumps, kept two
  days): a year's page reads that and two days' cells, not 500,000 cells. The next day's is the
  previous one rolled forward (minus the day that left the period, plus the one that joined).
  Yesterday is read live because requests that cross midnight end on it after it is over.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import redis

from dispatch import clock, keys
from dispatch.coverage_cells import Tallies, add_day, addition, pack
from dispatch.coverage_columns import Columns, decode, encode
from dispatch.records import RequestRecord

log = logging.getLogger("dispatch.coverage")
DAY = 86400
PERIOD_CACHE_SECONDS = 2 * DAY  # a standard period's sums of past days; a day later nobody asks for it
LIVE_DAYS = 2  # today and yesterday are read as they are: a call that crosses midnight ends on the next day

_COUNT = """
-- KEYS: marker, day hash, month cache, month version, past version
-- ARGV: marker ttl, day expire-at, cell, values, '1' when the day is before today
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local add = {}
for v in string.gmatch(ARGV[4], '%S+') do add[#add + 1] = tonumber(v) end
local old = redis.call('HGET', KEYS[2], ARGV[3])
if old then
  local i = 1
  for v in string.gmatch(old, '%S+') do
    if add[i] then add[i] = add[i] + tonumber(v) end
    i = i + 1
  end
end
for i = 1, #add do add[i] = string.format('%d', add[i]) end
redis.call('HSET', KEYS[2], ARGV[3], table.concat(add, ' '))
redis.call('EXPIREAT', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3])
redis.call('INCR', KEYS[4])
redis.call('EXPIREAT', KEYS[4], ARGV[2])
if ARGV[5] == '1' then redis.call('INCR', KEYS[5]) end
return 1
"""

_KEEP_MONTH = """
-- KEYS: month cache, month version; ARGV: version read before summing, json, expire-at
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
return 1
"""


@dataclass(frozen=True)
class Rebuilt:
    counted: int  # requests counted now
    already: int  # requests that had been counted before (or have not ended)
    days_reset: int  # days whose figures were dropped and counted again from the records


def months_of(start: date, end: date) -> list[tuple[date, date]]:
    """[start, end] split at month boundaries: (first, last) day of each piece."""
    out, first = [], start
    while first <= end:
        following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = min(end, following - timedelta(days=1))
        out.append((first, last))
        first = following
    return out


class CoverageFigures:
    """Count finished requests into the day cells; sum the cells for a period."""

    def __init__(self, r: redis.Redis, retention_days: int, timezone: str, record_retention_seconds: int):
        self.r = r
        self.retention_days = retention_days
        self.timezone = timezone
        self.marker_ttl = record_retention_seconds + DAY  # outlives the record it stands for
        self._count = r.register_script(_COUNT)
        self._keep_month = r.register_script(_KEEP_MONTH)

    # ------------------------------------------------------------------ writing
    def count(self, rec: RequestRecord) -> bool:
        """Add a finished request to its day's cell, once (True when counted now)."""
        found = addition(rec, self.timezone)
        if found is None:
            return False
        month = found.day.strftime("%Y-%m")
        return bool(
            self._count(
                keys=[
                    keys.coverage_counted(rec.id),
                    keys.coverage_day(found.day.isoformat()),
                    keys.coverage_month(month),
                    keys.coverage_month_version(month),
                    keys.COVERAGE_PAST_VERSION,
                ],
                args=[
                    self.marker_ttl,
                    self._expire_at(found.day),
                    found.cell,
                    pack(found.values),
                    "1" if found.day < self.today() - timedelta(days=LIVE_DAYS - 1) else "0",
                ],
            )
        )

    def count_quietly(self, rec: RequestRecord) -> None:
        """The store's end-of-request listener: a Redis error here must not fail the transition
        that already happened (`coverage rebuild` counts what was missed)."""
        try:
            self.count(rec)
        except redis.RedisError:
            log.warning("request %s: not counted for coverage (Redis error); `coverage rebuild` counts it", rec.id)

    def rebuild(self, records: Iterable[RequestRecord], complete_since: date | None) -> Rebuilt:
        """Count every record not counted yet. With `complete_since` (the first day every request
        of which is still on record), that day's and later days' figures are first dropped, with
        their records' markers, and counted again from the records."""
        records = list(records)
        reset = 0
        if complete_since is not None:
            today = self.today()
            days = [complete_since + timedelta(days=i) for i in range((today - complete_since).days + 1)]
            pipe = self.r.pipeline(transaction=False)
            for day in days:
                pipe.delete(keys.coverage_day(day.isoformat()))
            for first, _ in months_of(complete_since, today):
                version = keys.coverage_month_version(first.strftime("%Y-%m"))
                pipe.delete(keys.coverage_month(first.strftime("%Y-%m")))
                pipe.incr(version)
                pipe.expireat(version, self._expire_at(today))
            for rec in records:  # a record of an earlier day keeps its count (that day was not dropped)
                found = addition(rec, self.timezone)
                if found is not None and found.day >= complete_since:
                    pipe.delete(keys.coverage_counted(rec.id))
            pipe.incr(keys.COVERAGE_PAST_VERSION)
            pipe.execute()
            reset = len(days)
        counted = sum(1 for rec in records if rec.finished and self.count(rec))
        return Rebuilt(counted=counted, already=len(records) - counted, days_reset=reset)

    # ------------------------------------------------------------------ reading
    def today(self) -> date:
        return datetime.fromtimestamp(clock.now(), tz=ZoneInfo(self.timezone)).date()

    def day_cells(self, day: date) -> dict[str, str]:
        """One day's cells as stored (for tests and tools)."""
        return {_text(k): _text(v) for k, v in self.r.hgetall(keys.coverage_day(day.isoformat())).items()}

    def tallies(self, start: date, end: date, cache: bool = False) -> Tallies:
        """Per precinct × language, the sums over the local days [start, end]. With `cache`, the
        days before yesterday are summed once and kept (PERIOD_CACHE_SECONDS, until a count lands
        on one of them): a standard period's page then adds only yesterday's and today's cells."""
        today = self.today()
        live_from = today - timedelta(days=LIVE_DAYS - 1)
        past_end = min(end, live_from - timedelta(days=1))
        out: Tallies = {}
        if start <= past_end:
            out = self._past(start, past_end) if cache else self._sum(start, past_end)
        first = max(start, live_from)
        self._add_days(out, [first + timedelta(days=i) for i in range((min(end, today) - first).days + 1)])
        return out

    def _past(self, start: date, end: date) -> Tallies:
        version = _text(self.r.get(keys.COVERAGE_PAST_VERSION) or b"0")
        key = keys.coverage_period(start.isoformat(), end.isoformat(), version)
        day = timedelta(days=1)
        before = keys.coverage_period((start - day).isoformat(), (end - day).isoformat(), version)
        cached, previous = self.r.mget(key, before)
        if cached is not None:
            return decode(cached)
        if previous is not None:  # yesterday's page of the same period: roll it forward a day
            out = decode(previous)
            pipe = self.r.pipeline(transaction=False)
            pipe.hgetall(keys.coverage_day((start - day).isoformat()))
            pipe.hgetall(keys.coverage_day(end.isoformat()))
            gone, new = pipe.execute()
            add_day(out, start - day, gone, sign=-1)
            add_day(out, end, new)
            out = {where: t for where, t in out.items() if any(t.counts)}
        else:
            out = self._sum(start, end)
        self.r.set(key, encode(out), ex=PERIOD_CACHE_SECONDS)
        return out

    def _sum(self, start: date, end: date) -> Tallies:
        today = self.today()
        months = Columns()
        loose: list[date] = []
        for first, last in months_of(start, end):
            whole = first.day == 1 and (last + timedelta(days=1)).day == 1 and last < today
            if whole:
                months.add(self._month_blob(first))
            else:
                loose += [first + timedelta(days=i) for i in range((last - first).days + 1)]
        out = months.tallies()
        self._add_days(out, loose)
        return out

    def month(self, first: date) -> Tallies:
        """A finished month's sums, from its cache or summed from its days (then cached)."""
        return decode(self._month_blob(first))

    def _month_blob(self, first: date) -> bytes | str:
        name = first.strftime("%Y-%m")
        pipe = self.r.pipeline(transaction=False)
        pipe.get(keys.coverage_month(name))
        pipe.get(keys.coverage_month_version(name))
        cached, version = pipe.execute()
        if cached is not None:
            return bytes(cached)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        out: Tallies = {}
        self._add_days(out, [first + timedelta(days=i) for i in range(last.day)])
        blob = encode(out)
        self._keep_month(
            keys=[keys.coverage_month(name), keys.coverage_month_version(name)],
            args=[_text(version or b"0"), blob, self._expire_at(last)],
        )
        return blob

    def _add_days(self, out: Tallies, days: list[date]) -> None:
        if not days:
            return
        pipe = self.r.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(keys.coverage_day(day.isoformat()))
        for day, cells in zip(days, pipe.execute(), strict=True):
            if cells:
                add_day(out, day, cells)

    def _expire_at(self, day: date) -> int:
        """Epoch at which a day's figures go: COVERAGE_RETENTION_DAYS after the day ends."""
        end = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(self.timezone)) + timedelta(days=1)
        return int(end.timestamp()) + self.retention_days * DAY


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
