"""API tokens: how other tools read the dashboard's data without a person's password.

A token is 32 random bytes (256 bits), shown once when created and stored only as its
SHA-256. A password hash must be slow (scrypt) because people choose guessable passwords;
a token cannot be guessed, so one fast hash per request is as safe, and a tool polling
every second no longer costs a scrypt check per request (which slowed sergeants' actions
tens of times over). Tokens are named, listed by name, revoked by name, and read-only:
the dashboard accepts them for its JSON API and event stream, never for an action.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import redis

from dispatch import clock, keys

PREFIX = "ird_"  # recognisable in a config file or a secret scanner
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_TOKEN = 128  # longer than any token made here: refused unread


class TokenError(ValueError):
    """A bad name, a name already in use, or no such token."""


@dataclass(frozen=True)
class TokenInfo:
    name: str
    created: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def create(r: redis.Redis, name: str) -> str:
    """A new token named `name`; returns the token itself, which is not stored anywhere."""
    if not NAME.fullmatch(name):
        raise TokenError("a name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    token = PREFIX + secrets.token_urlsafe(32)
    hashed = digest(token)
    if not r.hsetnx(keys.API_TOKENS, name, hashed):
        raise TokenError(f"a token named {name!r} exists; revoke it first")
    r.hset(keys.api_token(hashed), mapping={"name": name, "created": clock.iso()})
    return token


def reader_name(r: redis.Redis, token: str) -> str | None:
    """The name of the token `token`, or None when it is not a current token."""
    if not token or len(token) > MAX_TOKEN:
        return None
    name = r.hget(keys.api_token(digest(token)), "name")
    return name.decode() if name is not None else None


def alive(r: redis.Redis, token: str) -> bool:
    """Still valid (not revoked)? The event stream asks between reads."""
    return bool(r.exists(keys.api_token(digest(token))))


def revoke(r: redis.Redis, name: str) -> None:
    hashed = r.hget(keys.API_TOKENS, name)
    if hashed is None:
        raise TokenError(f"no token named {name!r}")
    pipe = r.pipeline()
    pipe.delete(keys.api_token(hashed.decode()))
    pipe.hdel(keys.API_TOKENS, name)
    pipe.execute()


def listed(r: redis.Redis) -> list[TokenInfo]:
    """Every current token's name and creation time (never the token), by name."""
    names = sorted((n.decode(), h.decode()) for n, h in r.hgetall(keys.API_TOKENS).items())
    pipe = r.pipeline(transaction=False)
    for _name, hashed in names:
        pipe.hget(keys.api_token(hashed), "created")
    return [TokenInfo(name, (created or b"").decode()) for (name, _), created in zip(names, pipe.execute())]
