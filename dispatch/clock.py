"""Time in one place: epoch seconds for arithmetic, ISO-8601 UTC for people and logs."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def now() -> float:
    return time.time()


def iso(epoch: float | None = None) -> str:
    """UTC timestamp with milliseconds and a Z, e.g. 2026-11-29T02:10:00.123Z."""
    dt = datetime.fromtimestamp(now() if epoch is None else epoch, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def utc_datetime(epoch: float | None = None) -> datetime:
    return datetime.fromtimestamp(now() if epoch is None else epoch, tz=timezone.utc)
