"""What a supervisor's follow-up text needs from the one before: the language to confirm
("Reply YES"), URGENT, the callback number, the interpreter preference and incident number.
Never the text itself; gone after PENDING_TTL."""

from __future__ import annotations

from collections.abc import Mapping

import redis

from dispatch import keys
from dispatch.sms.ask import Ask

PENDING_TTL = 10 * 60  # how long "Reply YES" stays answerable


class PendingTexts:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r

    def remember(self, number: str, ask: Ask) -> None:
        """Keep `ask` for the sender's next text (nothing to keep: forget what was there)."""
        key = keys.sms_pending(number)
        if ask == Ask():
            self.r.delete(key)
            return
        pipe = self.r.pipeline()
        pipe.delete(key)
        language = ask.language.id if ask.language else ""
        pipe.hset(key, mapping={"language": language, "urgent": "1" if ask.urgent else "0", "callback": ask.callback})
        for field, value in (("gender", ask.gender), ("incident", ask.incident)):
            if value:
                pipe.hset(key, field, value)
        pipe.expire(key, PENDING_TTL)
        pipe.execute()

    def peek(self, number: str) -> dict[str, str] | None:
        return _texts(self.r.hgetall(keys.sms_pending(number)))

    def take(self, number: str) -> dict[str, str] | None:
        """What was kept, and forget it."""
        pipe = self.r.pipeline()
        pipe.hgetall(keys.sms_pending(number))
        pipe.delete(keys.sms_pending(number))
        raw, _ = pipe.execute()
        return _texts(raw)

    def forget(self, number: str) -> None:
        self.r.delete(keys.sms_pending(number))


def _texts(raw: Mapping[bytes | str, bytes | str]) -> dict[str, str] | None:
    def text(value: bytes | str) -> str:
        return value.decode() if isinstance(value, bytes) else value

    return {text(k): text(v) for k, v in raw.items()} if raw else None
