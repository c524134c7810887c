"""Redis replies as text, checked.

The service's clients are made without `decode_responses`, so every string reply is bytes;
redis-py types them `bytes | str` (a client may decode) and a range reply as a union with the
scored form. These read either, and fail loudly on a reply of another shape, so the stores
stay typed without a cast at every call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

# One stream entry as XRANGE/XREAD return it from a bytes client: (id, {field: value}).
StreamEntry = tuple[bytes, dict[bytes, bytes]]


def text(value: object) -> str:
    """A string reply (bytes from this service's clients) as str."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a Redis string reply, got {type(value).__name__}")


def text_or_none(value: object) -> str | None:
    """A string reply that may be nil (HGET, GET of a missing key)."""
    return None if value is None else text(value)


def texts(values: Iterable[object]) -> list[str]:
    """The members of a list reply (ZRANGE without scores, SMEMBERS, LRANGE) as str."""
    return [text(v) for v in values]


def text_fields(fields: object) -> dict[str, str]:
    """A hash reply (HGETALL, a stream entry's fields) as a dict of str."""
    if not isinstance(fields, dict):
        raise TypeError(f"expected a Redis hash reply, got {type(fields).__name__}")
    return {text(k): text(v) for k, v in fields.items()}


def stream_entries(reply: object) -> list[StreamEntry]:
    """XRANGE/XREVRANGE's reply (or one stream's entries from XREAD); empty when nil.

    redis-py types these replies loosely (`Any`-laden unions); their shape is the protocol's."""
    return cast(list[StreamEntry], reply or [])
