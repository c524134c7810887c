"""Texts to the supervisor of a texted request about it ("connecting", "failed"): voice callers
hear the same news on the line instead. The wording is replies.NOTICES; a worker sends them."""

from __future__ import annotations

import logging

from dispatch.context import Context
from dispatch.phone import mask
from dispatch.receipt import receipt_of
from dispatch.records import RequestRecord
from dispatch.sms import replies
from dispatch.sms.report_replies import receipt_text
from dispatch.telephony import TelephonyError

log = logging.getLogger("dispatch.sms")


def tell_texter_it_failed(ctx: Context, rec: RequestRecord) -> None:
    """A texted request failed (no interpreter reached, the call-back unanswered): queue its text."""
    if rec.channel == "sms":
        ctx.jobs.submit("notify", rec.id, "failed")


def tell_texter_the_receipt(ctx: Context, rec: RequestRecord) -> None:
    """A texted request's call has ended with an interpreter: queue the receipt's text."""
    if rec.channel == "sms" and rec.connected_at:
        ctx.jobs.submit("notify", rec.id, "receipt")


def send_notice(ctx: Context, request_id: str, what: str) -> str | None:
    """Text the supervisor of a texted request one of replies.NOTICES, or the receipt; the notify
    job's body."""
    rec = ctx.requests.get(request_id)
    build = (
        (lambda done: receipt_text(receipt_of(done, ctx.roster))) if what == "receipt" else replies.NOTICES.get(what)
    )
    if rec is None or build is None or rec.channel != "sms" or not rec.caller:
        return None
    try:
        sid = ctx.telephony.send_sms(rec.caller, ctx.roster.service_number, build(rec))
    except TelephonyError as exc:
        log.warning("request %s: could not text %s the %s notice: %s", request_id, mask(rec.caller), what, exc)
        return None
    log.info("request %s: texted %s the %s notice", request_id, mask(rec.caller), what)
    return sid
