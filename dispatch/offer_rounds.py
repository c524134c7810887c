"""Offer rounds: the liaisons one request rings at once (PARALLEL_OFFERS), and who still rings.

The request record names a round by its `offer_id` and keeps the first liaison in
`offer_liaison`/`offer_call` (what the queue view shows); this store keeps every liaison of the
round with their call. An offer that ends (no answer, a decline) leaves the round; only the
last one out moves the request on, so a decline while another phone still rings changes
nothing for the officer. Whoever ends the round (an accept, the vendor, the caller hanging up,
the round's deadline) takes what is left of it in one step and stops those phones: an offer's
late end then finds nothing to take.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from dispatch import keys
from dispatch.redis_replies import text_fields

ROUND_TTL = 24 * 3600  # the longest a round's keys live (a round lives seconds; this bounds what a crash leaves)
MIN_TTL = 60  # who was withdrawn is asked when their call ends, seconds after the round is taken


def key_ttl(retention_seconds: float) -> int:
    """How long a round's keys may live: no longer than the request's own records
    (RETENTION_SECONDS), a minute at least, for the withdrawn calls' final callbacks."""
    return int(max(MIN_TTL, min(ROUND_TTL, retention_seconds)))


OPEN = "~"  # a field every round keeps until it is taken: a round whose phones all ended still exists

# KEYS: round hash; ARGV: liaison. -1: not (or no longer) in the round; else how many are left.
# A round with no hash at all (ended and taken) answers 0, so a late end tries the guarded
# transition, which then finds the round gone.
_DROP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return -1 end
return redis.call('HLEN', KEYS[1]) - 1
"""

# KEYS: round hash, answered set, withdrawn set; ARGV: ttl. Everyone left, and who of them
# answered (remembered as withdrawn: freed, with their place in line, when their call ends).
_TAKE = """
local existed = redis.call('EXISTS', KEYS[1])
redis.call('HDEL', KEYS[1], ARGV[2])
local left = redis.call('HGETALL', KEYS[1])
local up = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
local out = {}
for i = 1, #left, 2 do out[left[i]] = true end
for _, liaison in ipairs(up) do
  if out[liaison] then redis.call('SADD', KEYS[3], liaison) end
end
redis.call('EXPIRE', KEYS[3], ARGV[1])
return {left, up, existed}
"""

# KEYS: round hash; ARGV: liaison, value. Only for a liaison still in the round.
_SET_IF_IN = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


@dataclass(frozen=True)
class Ringer:
    liaison: str
    call: str  # "" when the call's sid was never learned
    answered: bool  # hearing the whisper (their call is redirected, not cancelled)


def start(r: redis.Redis, request_id: str, round_id: str, liaison_ids: list[str], ttl: int) -> None:
    key = keys.offer_round(request_id, round_id)
    pipe = r.pipeline()
    pipe.hset(key, mapping={OPEN: "", **dict.fromkeys(liaison_ids, "")})
    pipe.expire(key, ttl)
    pipe.execute()


def set_call(r: redis.Redis, request_id: str, round_id: str, liaison_id: str, call_sid: str) -> None:
    r.register_script(_SET_IF_IN)(keys=[keys.offer_round(request_id, round_id)], args=[liaison_id, call_sid])


def answered(r: redis.Redis, request_id: str, round_id: str, liaison_id: str, ttl: int) -> None:
    """The liaison picked up and hears the whisper."""
    key = keys.offer_round(request_id, round_id) + ":up"
    pipe = r.pipeline()
    pipe.sadd(key, liaison_id)
    pipe.expire(key, ttl)
    pipe.execute()


def drop(r: redis.Redis, request_id: str, round_id: str, liaison_id: str) -> int:
    """`liaison_id`'s offer ended: how many of the round still ring (-1: it had already left)."""
    return int(r.register_script(_DROP)(keys=[keys.offer_round(request_id, round_id)], args=[liaison_id]))


def take(r: redis.Redis, request_id: str, round_id: str, ttl: int) -> list[Ringer] | None:
    """End the round: every liaison still in it, for the caller to stop and free (who of them
    was hearing the whisper is kept `ttl`). None when the round has no record: already taken,
    or opened by a version that kept none."""
    key = keys.offer_round(request_id, round_id)
    left, up, existed = r.register_script(_TAKE)(keys=[key, key + ":up", key + ":out"], args=[ttl, OPEN])
    if not existed:
        return None
    pairs = [x.decode() if isinstance(x, bytes) else x for x in left]
    hearing = {x.decode() if isinstance(x, bytes) else x for x in up}
    return [Ringer(pairs[i], pairs[i + 1], pairs[i] in hearing) for i in range(0, len(pairs), 2)]


def members(r: redis.Redis, request_id: str, round_id: str) -> dict[str, str]:
    """Who the round still rings → their call ("" unknown)."""
    raw = text_fields(r.hgetall(keys.offer_round(request_id, round_id)))
    return {k: v for k, v in raw.items() if k != OPEN}


def was_withdrawn(r: redis.Redis, request_id: str, round_id: str, liaison_id: str) -> bool:
    """The liaison was hearing the whisper when the round was taken: not a missed offer."""
    return bool(r.sismember(keys.offer_round(request_id, round_id) + ":out", liaison_id))
