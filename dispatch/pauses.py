"""Missed offers counted per liaison, and the pause that follows too many in a row.

A liaison whose phone rings out again and again is probably not at it: ringing them first
for every request only adds their ring time to every officer's wait. After
MISSED_OFFERS_TO_PAUSE consecutive misses they are paused (not offered calls) until they text
ON or a sergeant puts them on duty; an answered offer (accepted or declined) starts the count
again.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

from dispatch import keys
from dispatch.redis_replies import text_fields


class Pauses:
    """The consecutive-miss counts and the paused liaisons, two small hashes."""

    def __init__(self, r: redis.Redis):
        self.r = r

    def missed(self, liaison_id: str) -> int:
        """Count one more missed offer; the count in a row so far."""
        return int(self.r.hincrby(keys.LIAISON_MISSES, liaison_id, 1))

    def answered(self, liaison_id: str) -> None:
        """The liaison answered an offer (accepted or declined): the count starts again."""
        self.r.hdel(keys.LIAISON_MISSES, liaison_id)

    def pause(self, liaison_id: str, misses: int) -> None:
        self.r.hset(keys.LIAISON_PAUSED, liaison_id, misses)

    def resume(self, liaison_id: str) -> bool:
        """Take the pause off and start the count again; whether they were paused."""
        pipe = self.r.pipeline()
        pipe.hdel(keys.LIAISON_PAUSED, liaison_id)
        pipe.hdel(keys.LIAISON_MISSES, liaison_id)
        was_paused, _ = pipe.execute()
        return bool(was_paused)

    def paused(self, liaison_ids: Sequence[str] | None = None) -> dict[str, int]:
        """Paused liaisons (of `liaison_ids`, or all) → the misses that paused them."""
        if liaison_ids is not None and not liaison_ids:
            return {}
        found = {k: int(v) for k, v in text_fields(self.r.hgetall(keys.LIAISON_PAUSED)).items()}
        return found if liaison_ids is None else {i: found[i] for i in liaison_ids if i in found}
