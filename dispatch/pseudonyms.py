"""What the service keeps of a phone number that is not in the roster: a keyed hash and a mask.

An officer on a borrowed phone (a PIN caller) or a stranger texting the service number is
not someone the department has a record of, so their number is never written down in full
(DESIGN.md, confidentiality): counters that must recognise the same phone again (rate
limits) use `Pseudonyms.of`, and anything a person reads uses the masked form. Roster
numbers (precinct lines, supervisors' cells, liaisons) are the department's own and may be
kept as they are.

The hash is an HMAC keyed from SECRET_KEY, not a plain SHA-256: the space of phone numbers
is small enough to hash every one of them, so an unkeyed hash found in a Redis dump would
give the number back. Every process sharing a Redis must derive the same key, which is why
SECRET_KEY must be set outside LOCAL_MODE (Settings.require_secret_key). Only short-lived
keys hold these hashes, so changing SECRET_KEY costs nothing but a fresh rate-limit window.
"""

from __future__ import annotations

import hashlib
import hmac

from config.phone import mask
from config.roster import Roster

_PURPOSE = b"ird phone-number pseudonym v1"  # a key of its own, derived from SECRET_KEY
ANONYMOUS = "anonymous"


class Pseudonyms:
    """Stand-ins for phone numbers, the same in every process holding the same SECRET_KEY."""

    def __init__(self, secret_key: str) -> None:
        self._key = hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()

    def of(self, number: str) -> str:
        """A stable, keyed stand-in for `number` in short-lived keys (rate limits): 32 hex digits."""
        return hmac.new(self._key, (number or ANONYMOUS).encode(), hashlib.sha256).hexdigest()[:32]


def kept_number(roster: Roster, number: str) -> str:
    """The form of `number` a record may hold: in full if it is a roster number, else masked."""
    return number if number and roster.knows(number) else mask(number)


__all__ = ["Pseudonyms", "kept_number", "ANONYMOUS"]
