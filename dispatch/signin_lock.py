"""Sign-in lockout that locks out the guesser, not everyone.

Failed sign-ins are counted per (client address, username) and per client address, each
in a window of SIGNIN_LOCK_SECONDS from its first failure. Reaching SIGNIN_MAX_FAILURES
for one username, or SIGNIN_IP_MAX_FAILURES for the address, locks that pair, or that
address, for SIGNIN_LOCK_SECONDS. So a flood from one client never locks the same user out
at another address, while the flooding client stays locked.

- While locked, an attempt is refused before its password is checked, and nothing is
  written: the right password does not unlock it, and the lock does not start again.
- An attempt is counted before its password is checked and the count handed back if the
  password was right. Checking takes tens of milliseconds (scrypt), and guesses sent in
  parallel would otherwise all pass the limit before the first failure is written.
- A success clears that username's failures at that address; the address's count keeps
  only its failures.

The address is `client_address.throttle_key`: behind a proxy it is the real client only
when TRUSTED_PROXIES says how many proxies to believe (the app factory's ProxyFix).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import redis

from dispatch import keys

# KEYS: pair failures, address failures, pair lock, address lock.
# ARGV: pair limit, address limit, window ms.
# Returns 0 when the attempt is counted and may be checked; else the lock's remaining ms
# (negative: no lock, but as many attempts as the limit allows are already being checked).
_BEGIN = """
local wait = math.max(redis.call('PTTL', KEYS[3]), redis.call('PTTL', KEYS[4]))
if wait > 0 then return wait end
local pair = redis.call('INCR', KEYS[1])
if pair == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
local addr = redis.call('INCR', KEYS[2])
if addr == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
if pair > tonumber(ARGV[1]) or addr > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  redis.call('DECR', KEYS[2])
  return -1000
end
return 0
"""

# Same KEYS; ARGV: pair limit, address limit, lock ms. The attempt begun is a failure:
# keep its count, and lock whatever reached its limit. Returns the lock's ms, or 0.
_FAILED = """
local locked = 0
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  locked = tonumber(ARGV[3])
end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[4], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[2])
  locked = tonumber(ARGV[3])
end
return locked
"""

# Same KEYS. The attempt begun was right: forget the pair's failures, hand back the address's count.
_SUCCEEDED = """
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 0
"""


@dataclass(frozen=True)
class Attempt:
    """One counted sign-in attempt, to be settled by `failed` or `succeeded`."""

    keys: tuple[str, str, str, str]


class Locked(Exception):
    """Refused unchecked: `seconds` until the lock ends (or until parallel attempts settle)."""

    def __init__(self, seconds: int, parallel: bool = False) -> None:
        super().__init__(seconds)
        self.seconds = seconds
        self.parallel = parallel


class SigninLock:
    def __init__(self, r: redis.Redis, max_failures: int, address_max_failures: int, lock_seconds: int) -> None:
        self.max_failures = max(1, int(max_failures))
        self.address_max_failures = max(1, int(address_max_failures))
        self.lock_ms = max(1, int(lock_seconds)) * 1000
        self._begin = r.register_script(_BEGIN)
        self._failed = r.register_script(_FAILED)
        self._succeeded = r.register_script(_SUCCEEDED)

    def begin(self, address: str, username: str) -> Attempt:
        """Count an attempt about to be checked; raises Locked (nothing counted) if refused."""
        names = (
            keys.signin_failures(address, username),
            keys.signin_failures_address(address),
            keys.signin_lock(address, username),
            keys.signin_lock_address(address),
        )
        wait_ms = int(self._begin(keys=list(names), args=[self.max_failures, self.address_max_failures, self.lock_ms]))
        if wait_ms > 0:
            raise Locked(math.ceil(wait_ms / 1000))
        if wait_ms < 0:
            raise Locked(math.ceil(-wait_ms / 1000), parallel=True)
        return Attempt(names)

    def failed(self, attempt: Attempt) -> int:
        """The password was wrong; returns the seconds of the lock this failure started, or 0."""
        locked_ms = int(
            self._failed(keys=list(attempt.keys), args=[self.max_failures, self.address_max_failures, self.lock_ms])
        )
        return math.ceil(locked_ms / 1000)

    def succeeded(self, attempt: Attempt) -> None:
        self._succeeded(keys=list(attempt.keys))
