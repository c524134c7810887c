"""Request records on Redis, moved only by checked, atomic transitions.

A transition runs as one Lua script: it checks the current state (and an optional
guard field such as the current offer id), writes the new fields, appends the
history entry, updates the open/closed/deadline indexes and publishes the event on
the stream the dashboard reads. Either all of that happens or none of it, so a
duplicate or late callback can never half-apply.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from dispatch import clock, keys
from dispatch.records import RequestRecord
from dispatch.redis_replies import text_fields, texts
from dispatch.states import TERMINAL, WAITING, State, transition

# The line a waiting request stands in (for its place in line): a sorted set per language,
# member the request id, score when its wait began. Kept by the create and transition scripts
# below, so it always agrees with the records; its key is built in the script from the record's
# language (one Redis or a Sentinel pair, not a Cluster). Entries older than the retention are
# dropped as the line moves, so a record that expired while waiting leaves no trace for long.
_LINE = """
local function stand_in_line(hash, id, prefix, waiting, now, retention)
  local line = prefix .. (redis.call('HGET', hash, 'language') or '')
  if waiting then
    local since = redis.call('HGET', hash, 'queued_at')
    if not since or since == '' then since = redis.call('HGET', hash, 'created_at') end
    redis.call('ZADD', line, since, id)
    redis.call('ZREMRANGEBYSCORE', line, '-inf', '(' .. (tonumber(now) - tonumber(retention)))
  else
    redis.call('ZREM', line, id)
  end
end
"""

_CREATE = (
    _LINE
    + """
-- KEYS: request hash, history, open zset, events stream
-- ARGV: fields json, now, iso, retention, maxlen, line key prefix, waiting ('1'/'0')
local f = cjson.decode(ARGV[1])
for k, v in pairs(f) do redis.call('HSET', KEYS[1], k, v) end
local entry = cjson.encode({ts=ARGV[3], event='created', from='', to=f['state'], data={}})
redis.call('RPUSH', KEYS[2], entry)
redis.call('ZADD', KEYS[3], ARGV[2], f['id'])
if ARGV[7] == '1' then stand_in_line(KEYS[1], f['id'], ARGV[6], true, ARGV[2], ARGV[4]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', 'request', f['id'], 'event', 'created',
           'from', '', 'to', f['state'], 'ts', ARGV[3], 'data', '{}')
return redis.call('HGETALL', KEYS[1])
"""
)

_TRANSITION = (
    _LINE
    + """
-- KEYS: request hash, history, events stream, open zset, closed zset, deadlines zset
-- ARGV: 1 event, 2 sources (space separated), 3 target, 4 guard field, 5 guard value,
--       6 now, 7 iso, 8 fields json, 9 data json, 10 deadline ('' keep, '-' drop, else epoch),
--       11 terminal ('1'/'0'), 12 retention, 13 maxlen, 14 line key prefix, 15 target waits ('1'/'0')
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, ''} end
local ok = false
for s in string.gmatch(ARGV[2], '%S+') do if s == state then ok = true end end
if not ok then return {0, state} end
if ARGV[4] ~= '' and redis.call('HGET', KEYS[1], ARGV[4]) ~= ARGV[5] then return {0, state} end
local f = cjson.decode(ARGV[8])
for k, v in pairs(f) do
  if v == cjson.null then redis.call('HDEL', KEYS[1], k) else redis.call('HSET', KEYS[1], k, v) end
end
redis.call('HSET', KEYS[1], 'state', ARGV[3])
local id = redis.call('HGET', KEYS[1], 'id')
stand_in_line(KEYS[1], id, ARGV[14], ARGV[15] == '1', ARGV[6], ARGV[12])
local entry = '{"ts":' .. cjson.encode(ARGV[7]) .. ',"event":' .. cjson.encode(ARGV[1]) ..
  ',"from":' .. cjson.encode(state) .. ',"to":' .. cjson.encode(ARGV[3]) .. ',"data":' .. ARGV[9] .. '}'
redis.call('RPUSH', KEYS[2], entry)
if ARGV[11] == '1' then
  redis.call('ZREM', KEYS[4], id)
  redis.call('ZADD', KEYS[5], ARGV[6], id)
  -- the closed index would otherwise keep the id of every request ever closed, long after
  -- its record expired: drop those older than the retention period
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. (tonumber(ARGV[6]) - tonumber(ARGV[12])))
  redis.call('ZREM', KEYS[6], id)
  redis.call('EXPIRE', KEYS[1], ARGV[12])
  redis.call('EXPIRE', KEYS[2], ARGV[12])
elseif ARGV[10] == '-' then
  redis.call('ZREM', KEYS[6], id)
elseif ARGV[10] ~= '' then
  redis.call('ZADD', KEYS[6], ARGV[10], id)
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[13], '*', 'request', id, 'event', ARGV[1],
           'from', state, 'to', ARGV[3], 'ts', ARGV[7], 'data', ARGV[9])
return {1, state, redis.call('HGETALL', KEYS[1])}
"""
)


@dataclass(frozen=True)
class Outcome:
    """What a transition attempt did: `applied` False means nothing changed."""

    applied: bool
    previous: State | None
    record: RequestRecord | None


# KEYS: call link, request; ARGV: ttl, request id, role, liaison id, then field/value pairs
# written to the request only if it still exists (as set_fields).
_LINK_CALL = """
redis.call('HSET', KEYS[1], 'request', ARGV[2], 'role', ARGV[3], 'liaison', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[1])
if #ARGV > 4 and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], unpack(ARGV, 5))
end
return 1
"""


# KEYS: request hash, history, events stream. ARGV: event, iso, data json, maxlen, published data
# json, then field/value pairs. A fact that is no transition (a correction for the receipt): the
# fields written and a history entry (which expires with the record), in one step.
_ANNOTATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
local state = redis.call('HGET', KEYS[1], 'state') or ''
local id = redis.call('HGET', KEYS[1], 'id')
redis.call('RPUSH', KEYS[2], '{"ts":' .. cjson.encode(ARGV[2]) .. ',"event":' .. cjson.encode(ARGV[1]) ..
  ',"from":' .. cjson.encode(state) .. ',"to":' .. cjson.encode(state) .. ',"data":' .. ARGV[3] .. '}')
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'request', id, 'event', ARGV[1],
           'from', state, 'to', state, 'ts', ARGV[2], 'data', ARGV[5])
return 1
"""


class RequestStore:
    """Create, read and transition request records."""

    def __init__(self, r: redis.Redis, retention_seconds: int, events_maxlen: int = 10000):
        self.r = r
        self.retention = retention_seconds
        self.maxlen = events_maxlen
        self._ended: list[Callable[[RequestRecord], None]] = []  # on_end's listeners
        self._create = r.register_script(_CREATE)
        self._transition = r.register_script(_TRANSITION)
        self._set_existing = r.register_script(
            "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], unpack(ARGV)) return 1"
        )
        self._link_call = r.register_script(_LINK_CALL)
        self._annotate = r.register_script(_ANNOTATE)

    def create(self, fields: Mapping[str, Any], state: State = State.NEW) -> RequestRecord:
        """Open a new request; its number is short enough to read out or text back."""
        number = self.r.incr(keys.REQUEST_SEQ)
        request_id = f"R{number:05d}"
        now = clock.now()
        data = {k: _encode(v) for k, v in fields.items() if v is not None}
        data.update(id=request_id, state=state.value, created_at=repr(now))
        if state == State.QUEUED:
            data.setdefault("queued_at", repr(now))
        # The scripts answer with the record as written (HGETALL inside the same atomic
        # step), which saves a round trip to read it back after every create and transition.
        flat = self._create(
            keys=[keys.request(request_id), keys.history(request_id), keys.OPEN_REQUESTS, keys.EVENTS],
            args=[
                json.dumps(data),
                now,
                clock.iso(now),
                self.retention,
                self.maxlen,
                keys.WAITING_LINE,
                "1" if state in WAITING else "0",
            ],
        )
        return RequestRecord.from_hash(_pairs(flat))

    def get(self, request_id: str) -> RequestRecord | None:
        raw = self.r.hgetall(keys.request(request_id))
        return RequestRecord.from_hash(text_fields(raw)) if raw else None

    def get_many(self, request_ids: Iterable[str]) -> list[RequestRecord]:
        ids = list(request_ids)
        pipe = self.r.pipeline(transaction=False)
        for request_id in ids:
            pipe.hgetall(keys.request(request_id))
        return [RequestRecord.from_hash(text_fields(raw)) for raw in pipe.execute() if raw]

    def apply(
        self,
        request_id: str,
        name: str,
        fields: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        guard: tuple[str, str] | None = None,
        deadline: float | None | str = "",
    ) -> Outcome:
        """Apply transition `name` if the request is in one of its source states.

        `guard` (field, value) must also match, e.g. ("offer_id", id) so an old
        offer's callback cannot move a request that has moved on. `deadline` is
        when the sweeper should look at it again ("" keeps, None drops it).
        """
        t = transition(name)
        now = clock.now()
        encoded = {k: (None if v is None else _encode(v)) for k, v in (fields or {}).items()}
        if t.target in TERMINAL:
            encoded.setdefault("ended_at", repr(now))
        elif t.target == State.CONNECTED and State.REJOINING not in t.sources:
            encoded.setdefault("connected_at", repr(now))  # a rejoin keeps the first connection's time
        elif name == "queue":
            encoded.setdefault("queued_at", repr(now))
        deadline_arg = "-" if deadline is None else ("" if deadline == "" else repr(float(deadline)))
        result = self._transition(
            keys=[
                keys.request(request_id),
                keys.history(request_id),
                keys.EVENTS,
                keys.OPEN_REQUESTS,
                keys.CLOSED_REQUESTS,
                keys.DEADLINES,
            ],
            args=[
                name,
                " ".join(s.value for s in t.sources),
                t.target.value,
                guard[0] if guard else "",
                guard[1] if guard else "",
                now,
                clock.iso(now),
                json.dumps(encoded),
                json.dumps(dict(data or {})),
                deadline_arg,
                "1" if t.target in TERMINAL else "0",
                self.retention,
                self.maxlen,
                keys.WAITING_LINE,
                "1" if t.target in WAITING else "0",
            ],
        )
        applied = bool(int(result[0]))
        prev_raw = result[1].decode() if isinstance(result[1], bytes) else result[1]
        previous = State(prev_raw) if prev_raw else None
        record = RequestRecord.from_hash(_pairs(result[2])) if applied else None
        if record is not None and t.target in TERMINAL:
            for listener in self._ended:
                listener(record)
        return Outcome(applied, previous, record)

    def on_end(self, listener: Callable[[RequestRecord], None]) -> None:
        """Call `listener` with the record each time a transition ends a request (whichever
        service ends it: every end passes here, once, as transitions are checked)."""
        self._ended.append(listener)

    def history(self, request_id: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.r.lrange(keys.history(request_id), 0, -1)]

    def place_in_line(self, rec: RequestRecord) -> int | None:
        """How many requests for the same language wait ahead of `rec` (0: it is next); None
        when `rec` is not in the line (not waiting, or waiting since before the line was kept)."""
        rank = self.r.zrank(keys.waiting_line(rec.language or ""), rec.id)
        return rank if isinstance(rank, int) else None  # an int, or nil when not in the line

    def open_ids(self) -> list[str]:
        return texts(self.r.zrange(keys.OPEN_REQUESTS, 0, -1))

    def closed_ids(self, since: float, limit: int = 200) -> list[str]:
        raw = self.r.zrevrangebyscore(keys.CLOSED_REQUESTS, "+inf", since, start=0, num=limit)
        return texts(raw)

    def due(self, now: float, limit: int = 500) -> list[str]:
        """Requests whose deadline has passed: the sweeper's work list."""
        raw = self.r.zrangebyscore(keys.DEADLINES, "-inf", now, start=0, num=limit)
        return texts(raw)

    def set_deadline(self, request_id: str, when: float | None) -> None:
        if when is None:
            self.r.zrem(keys.DEADLINES, request_id)
        else:
            self.r.zadd(keys.DEADLINES, {request_id: when})

    def postpone(self, request_ids: Iterable[str], until: float) -> None:
        """Move the deadlines of these requests (those that still have one) to `until`."""
        ids = list(request_ids)
        if ids:
            self.r.zadd(keys.DEADLINES, dict.fromkeys(ids, until), xx=True)

    def mark_tried(self, request_id: str, liaison_id: str) -> None:
        pipe = self.r.pipeline()
        pipe.sadd(keys.tried(request_id), liaison_id)
        pipe.expire(keys.tried(request_id), self.retention)
        pipe.execute()

    def tried(self, request_id: str) -> set[str]:
        return set(texts(self.r.smembers(keys.tried(request_id))))

    def forget_tried(self, request_id: str) -> None:
        """Every liaison may be offered the request again (a sergeant's "offer again")."""
        self.r.delete(keys.tried(request_id))

    def set_fields(self, request_id: str, fields: Mapping[str, Any]) -> bool:
        """Record facts that are not transitions (a call sid learned after dialling).

        Only on a record that still exists: a late write must not resurrect an
        expired or deleted request as a stateless fragment.
        """
        flat = [x for k, v in fields.items() for x in (k, _encode(v))]
        return bool(self._set_existing(keys=[keys.request(request_id)], args=flat))

    def annotate(
        self,
        request_id: str,
        event: str,
        fields: Mapping[str, Any],
        data: Mapping[str, Any],
        published: Mapping[str, Any],
    ) -> bool:
        """Write `fields` on a record that still exists, with a history entry `event` holding
        `data` and an event on the stream holding only `published` (the stream outlives records,
        so what must expire with the record stays out of it)."""
        flat = [x for k, v in fields.items() for x in (k, _encode(v))]
        return bool(
            self._annotate(
                keys=[keys.request(request_id), keys.history(request_id), keys.EVENTS],
                args=[
                    event,
                    clock.iso(clock.now()),
                    json.dumps(dict(data)),
                    self.maxlen,
                    json.dumps(dict(published)),
                    *flat,
                ],
            )
        )

    def link_call(
        self, call_sid: str, request_id: str, role: str, liaison_id: str = "", fields: Mapping[str, Any] | None = None
    ) -> None:
        """Remember what a CallSid is for, so status callbacks find their request; and,
        in the same round trip, `fields` as set_fields would (e.g. the call sid itself)."""
        flat = [x for k, v in (fields or {}).items() for x in (k, _encode(v))]
        self._link_call(
            keys=[keys.call(call_sid), keys.request(request_id)],
            args=[self.retention, request_id, role, liaison_id, *flat],
        )

    def call_link(self, call_sid: str) -> dict[str, str]:
        return text_fields(self.r.hgetall(keys.call(call_sid)))


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, State):
        return value.value
    return str(value)


def _pairs(flat: list[bytes]) -> dict[str, str]:
    """A Lua-returned HGETALL (field, value, field, value, ...) as a dict of str."""
    return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
