"""Texts the service sends a liaison of its own accord: a missed offer, a pause, a booking's
reminder, a call-out.

They are few and they are to someone's own phone, so each liaison gets at most
LIAISON_TEXTS_PER_HOUR of them (a flapping phone or a sergeant's repeated call-outs never
turn into a stream of texts). A worker sends them (the `text_liaison` job): a webhook never
waits on the phone network. The wording never carries a caller's number or a request's
details beyond its language.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from dispatch import clock, rate_limit
from dispatch.context import Context
from dispatch.phone import mask
from dispatch.sms.replies import finish
from dispatch.telephony import TelephonyError

log = logging.getLogger("dispatch.sms")

HOUR = 3600


def text_liaison(ctx: Context, liaison_id: str, body: str) -> bool:
    """Queue `body` for the liaison, within their hourly allowance; whether it was queued."""
    limit = ctx.settings.liaison_texts_per_hour
    if not rate_limit.allow(ctx.redis, "liaison-text", liaison_id, limit, HOUR):
        log.info("liaison %s: text not sent, over %d texts this hour", liaison_id, limit)
        return False
    ctx.jobs.submit("text_liaison", liaison_id, finish(body))
    return True


def send_to_liaison(ctx: Context, liaison_id: str, body: str) -> str | None:
    """The `text_liaison` job's body: send it; the message sid, or None."""
    liaison = ctx.roster.liaison(liaison_id)
    if liaison is None:
        return None
    try:
        sid = ctx.telephony.send_sms(liaison.phone, ctx.roster.service_number, finish(body))
    except TelephonyError as exc:
        log.warning("liaison %s: could not text %s: %s", liaison_id, mask(liaison.phone), exc)
        return None
    log.info("liaison %s: texted %s", liaison_id, mask(liaison.phone))
    return sid


def local(ctx: Context, epoch: float | None = None) -> datetime:
    """`epoch` (now) as wall-clock time in the roster's time zone."""
    return clock.utc_datetime(epoch).astimezone(ZoneInfo(ctx.roster.timezone))


def clock_time(ctx: Context, epoch: float) -> str:
    """'3:04 PM', in the roster's time zone."""
    return local(ctx, epoch).strftime("%I:%M %p").lstrip("0")
