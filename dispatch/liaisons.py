"""Liaison live state on Redis, and the atomic claim that keeps offers single.

Readiness lives in one sorted set: member = liaison id, score = the moment they
became (or will become, after wrap-up) available. Claiming is one Lua script that
picks the lowest score <= now among the candidates and removes it, so two workers
can never offer one liaison two calls, and "longest idle first" falls out of the
ordering.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from dispatch import clock, events, keys
from dispatch.redis_replies import texts

IDLE, RINGING, ON_CALL, WRAPUP, OFF = "idle", "ringing", "on_call", "wrapup", "off"

_CLAIM = """
-- KEYS[1] available zset, KEYS[2..] liaison hashes (same order as ARGV[4..])
-- ARGV: 1 now, 2 request id, 3 iso, 4.. candidate ids
local best, best_score, best_i = nil, nil, nil
for i = 4, #ARGV do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) <= tonumber(ARGV[1]) and (not best_score or tonumber(s) < best_score) then
    best, best_score, best_i = ARGV[i], tonumber(s), i
  end
end
if not best then return false end
redis.call('ZREM', KEYS[1], best)
redis.call('HSET', KEYS[best_i - 2], 'state', 'ringing', 'request', ARGV[2], 'since', ARGV[1],
           'idle_since', tostring(best_score))
return best
"""

_RELEASE = """
-- KEYS[1] liaison hash, KEYS[2] available zset
-- ARGV: 1 request id, 2 allowed states ('' = any), 3 new state, 4 now, 5 score, 6 liaison id, 7 keep place
local held = redis.call('HGET', KEYS[1], 'request')
if held ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then
  local state = redis.call('HGET', KEYS[1], 'state') or ''
  local ok = false
  for s in string.gmatch(ARGV[2], '%S+') do if s == state then ok = true end end
  if not ok then return 0 end
end
local score = ARGV[5]
if ARGV[7] == '1' then score = redis.call('HGET', KEYS[1], 'idle_since') or ARGV[4] end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'request', '', 'since', ARGV[4], 'available_at', score)
redis.call('ZADD', KEYS[2], score, ARGV[6])
return 1
"""

_HOLD = """
-- KEYS[1] liaison hash; ARGV: 1 request id, 2 now
if redis.call('HGET', KEYS[1], 'request') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'state') ~= 'ringing' then
  return 0
end
redis.call('HSET', KEYS[1], 'since', ARGV[2])
return 1
"""


@dataclass(frozen=True)
class LiaisonStatus:
    id: str
    state: str  # idle | ringing | on_call | wrapup | off (derived from duty too)
    request: str
    since: float | None
    available_at: float | None
    duty_override: str  # "on" | "off" | "" (follow the roster schedule)
    languages_override: tuple[str, ...] | None


class LiaisonBoard:
    """Who is free, who is ringing, who is on a call."""

    def __init__(self, r: redis.Redis, events_maxlen: int = 10000):
        self.r = r
        self.maxlen = events_maxlen
        self._claim = r.register_script(_CLAIM)
        self._release = r.register_script(_RELEASE)
        self._hold = r.register_script(_HOLD)

    def sync(self, liaison_ids: Iterable[str]) -> None:
        """Make every roster liaison known; keeps the state of those already known."""
        now = clock.now()
        ids = list(liaison_ids)
        pipe = self.r.pipeline()
        for lid in ids:
            pipe.hsetnx(keys.liaison(lid), "state", IDLE)
            pipe.hsetnx(keys.liaison(lid), "since", repr(now))
        pipe.execute()
        for lid in ids:
            state = self.r.hget(keys.liaison(lid), "state")
            if state in (IDLE.encode(), WRAPUP.encode()):
                self.r.zadd(keys.LIAISONS_AVAILABLE, {lid: now}, nx=True)
        known = set(texts(self.r.zrange(keys.LIAISONS_AVAILABLE, 0, -1)))
        for stale in known - set(ids):
            self.r.zrem(keys.LIAISONS_AVAILABLE, stale)

    def claim(self, candidates: Sequence[str], request_id: str) -> str | None:
        """Atomically take the longest-idle available candidate, or None."""
        if not candidates:
            return None
        now = clock.now()
        found = self._claim(
            keys=[keys.LIAISONS_AVAILABLE, *[keys.liaison(c) for c in candidates]],
            args=[now, request_id, clock.iso(now), *candidates],
        )
        if not found:
            return None
        lid = found.decode() if isinstance(found, bytes) else found
        self._publish("liaison_ringing", {"liaison": lid}, request=request_id)
        return lid

    def hold(self, liaison_id: str, request_id: str) -> bool:
        """Keep a ringing liaison held for `request_id` from now on (their phone is still on
        our call): the offer call's final status frees them, or the sweeper once an offer's
        longest life has passed since this (Sweeper.free_stuck_liaisons)."""
        return bool(self._hold(keys=[keys.liaison(liaison_id)], args=[request_id, repr(clock.now())]))

    def mark_on_call(self, liaison_id: str, request_id: str) -> None:
        self._set(liaison_id, ON_CALL, request_id)

    def release(
        self,
        liaison_id: str,
        request_id: str,
        wrapup: float = 0.0,
        keep_place: bool = False,
        only_if: tuple[str, ...] | None = None,
    ) -> bool:
        """Return a liaison to the pool, after `wrapup` seconds.

        Only releases when the liaison is still held for `request_id`, so a late
        callback cannot free a liaison who has since taken another call.
        `keep_place` restores their original idle time (the offer never reached
        them, e.g. the dial failed), so they stay first in line. `only_if` limits
        the release to those states (a late "no answer" must not free a liaison
        who has since accepted).
        """
        now = clock.now()
        done = self._release(
            keys=[keys.liaison(liaison_id), keys.LIAISONS_AVAILABLE],
            args=[
                request_id,
                " ".join(only_if or ()),
                WRAPUP if wrapup > 0 else IDLE,
                repr(now),
                repr(now + wrapup),
                liaison_id,
                "1" if keep_place else "0",
            ],
        )
        if not done:
            return False
        self._publish("liaison_free", {"liaison": liaison_id, "wrapup": wrapup}, request=request_id)
        return True

    def set_duty(self, liaison_id: str, on: bool | None, until: float | None = None) -> None:
        """Override the roster schedule (on/off), or None to follow the schedule again;
        `until`: the override ends then by itself (a call-out's ON lasts until midnight)."""
        key = keys.liaison(liaison_id)
        if on is None:
            self.r.hdel(key, "duty", "duty_until")
        else:
            self.r.hset(key, "duty", "on" if on else "off")
            if until is None:
                self.r.hdel(key, "duty_until")
            else:
                self.r.hset(key, "duty_until", repr(until))
        self._publish("liaison_duty", {"liaison": liaison_id, "duty": "" if on is None else ("on" if on else "off")})

    def set_languages(self, liaison_id: str, languages: Sequence[str] | None) -> None:
        """Today's languages (from an ON text), or None to use the roster's."""
        key = keys.liaison(liaison_id)
        if languages is None:
            self.r.hdel(key, "languages")
        else:
            self.r.hset(key, "languages", json.dumps(list(languages)))

    def available_now(self) -> set[str]:
        """Liaisons free to be offered a call now (idle, wrap-up over): the only ones a
        claim can take."""
        return set(texts(self.r.zrangebyscore(keys.LIAISONS_AVAILABLE, "-inf", clock.now())))

    def status(self, liaison_id: str) -> LiaisonStatus:
        return self.statuses([liaison_id])[0]

    def statuses(self, liaison_ids: Sequence[str]) -> list[LiaisonStatus]:
        # One HGETALL per liaison and one read of the whole (roster-sized) available set, not a
        # ZSCORE per liaison: routing reads this for every request.
        pipe = self.r.pipeline(transaction=False)
        for lid in liaison_ids:
            pipe.hgetall(keys.liaison(lid))
        pipe.zrange(keys.LIAISONS_AVAILABLE, 0, -1, withscores=True)
        replies = pipe.execute()
        available = {member.decode(): score for member, score in replies[-1]}
        now = clock.now()
        out = []
        for i, lid in enumerate(liaison_ids):
            raw = {k.decode(): v.decode() for k, v in replies[i].items()}
            score = available.get(lid)
            state = raw.get("state", IDLE)
            if state in (IDLE, WRAPUP) and score is not None:
                state = WRAPUP if score > now else IDLE
            langs = raw.get("languages")
            duty = raw.get("duty", "")
            if duty and raw.get("duty_until") and float(raw["duty_until"]) <= now:
                duty = ""  # the override has ended: the roster schedule again
            out.append(
                LiaisonStatus(
                    id=lid,
                    state=state,
                    request=raw.get("request", ""),
                    since=float(raw["since"]) if raw.get("since") else None,
                    available_at=score,
                    duty_override=duty,
                    languages_override=tuple(json.loads(langs)) if langs else None,
                )
            )
        return out

    def _publish(self, event: str, data: dict[str, Any], request: str = "") -> None:
        """Tell watchers, within the configured cap on the events stream."""
        events.publish(self.r, event, data, request=request, maxlen=self.maxlen)

    def _set(self, liaison_id: str, state: str, request_id: str) -> None:
        self.r.hset(
            keys.liaison(liaison_id), mapping={"state": state, "request": request_id, "since": repr(clock.now())}
        )
        self._publish("liaison_" + state, {"liaison": liaison_id}, request=request_id)
