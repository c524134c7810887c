"""Calendar feeds: a secret URL per feed (the unit's bookings, or one liaison's), revocable.

A calendar app cannot sign in, so the feed's URL carries a token: 32 random bytes, shown
once when issued and stored only as its SHA-256 (as API tokens are, api_tokens.py). Issuing a
feed's link again replaces the old one, which stops working at once; revoking leaves none.
"""

from __future__ import annotations

import hashlib
import secrets

import redis

from dispatch import keys
from dispatch.redis_replies import text_or_none, texts

UNIT = "unit"  # the feed of every booking; any other feed name is a liaison id
MAX_TOKEN = 128  # longer than any token made here: refused unread


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class CalendarFeeds:
    def __init__(self, r: redis.Redis):
        self.r = r

    def issue(self, feed: str) -> str:
        """A new token for `feed` (the old one, if any, stops working); the token itself."""
        token = secrets.token_urlsafe(32)
        hashed = _digest(token)
        old = text_or_none(self.r.hget(keys.CALENDAR_FEEDS, feed))
        pipe = self.r.pipeline()
        if old:
            pipe.delete(keys.calendar_feed(old))
        pipe.set(keys.calendar_feed(hashed), feed)
        pipe.hset(keys.CALENDAR_FEEDS, feed, hashed)
        pipe.execute()
        return token

    def revoke(self, feed: str) -> bool:
        """The feed's link stops working; whether there was one."""
        old = text_or_none(self.r.hget(keys.CALENDAR_FEEDS, feed))
        if old is None:
            return False
        pipe = self.r.pipeline()
        pipe.delete(keys.calendar_feed(old))
        pipe.hdel(keys.CALENDAR_FEEDS, feed)
        pipe.execute()
        return True

    def feed_for(self, token: str) -> str | None:
        """The feed a token opens, or None (never issued, replaced or revoked)."""
        if not token or len(token) > MAX_TOKEN:
            return None
        return text_or_none(self.r.get(keys.calendar_feed(_digest(token))))

    def issued(self) -> set[str]:
        """The feeds that have a working link."""
        return set(texts(self.r.hkeys(keys.CALENDAR_FEEDS)))
