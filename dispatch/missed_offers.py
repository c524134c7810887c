"""What an offer's end says about the liaison's phone: missed offers texted, then a pause.

Offers (offers.py) calls `offer_settled` once per offer, when the offer ends for good (the
guarded transition applied, so a late or repeated callback never counts twice). Not
answered, busy, or answered by a voicemail (the whisper heard no key: "no-accept", or the
offer timed out) is a miss; an accept or a decline is an answer. A dial that failed, or a
phone we stopped ourselves (the request moved on), says nothing about the liaison.
"""

from __future__ import annotations

import logging

from dispatch import clock
from dispatch.audit_live import audit_live
from dispatch.context import Context
from dispatch.pauses import Pauses
from dispatch.records import RequestRecord
from dispatch.sms.to_liaisons import clock_time, text_liaison

log = logging.getLogger("dispatch.offers")

MISSED = frozenset({"no-answer", "busy", "no-accept", "timeout"})
ANSWERED = frozenset({"accepted", "declined"})


def missed_text(language: str, at: str) -> str:
    return f"Missed a {language} request at {at}. Reply OFF if you are not available."


def paused_text(language: str, at: str, misses: int) -> str:
    return (
        f"Missed a {language} request at {at}. Paused after {misses} missed calls: "
        "no calls will be offered. Reply ON to take calls again."
    )


def paused_label(misses: int) -> str:
    """The liaison's row on the dashboard."""
    return f"paused after {misses} missed calls"


def offer_settled(ctx: Context, liaison_id: str, outcome: str, rec: RequestRecord | None) -> None:
    """Count a miss (text the liaison; pause them after MISSED_OFFERS_TO_PAUSE in a row), or
    start the count again after an answer."""
    pauses = Pauses(ctx.redis)
    if outcome in ANSWERED:
        pauses.answered(liaison_id)
        return
    if outcome not in MISSED:
        return
    misses = pauses.missed(liaison_id)
    language = (rec.language_name if rec else "") or "interpreting"
    at = clock_time(ctx, clock.now())
    limit = ctx.settings.missed_offers_to_pause
    if misses >= limit:
        pauses.pause(liaison_id, misses)
        audit_live(ctx, "dispatcher", "liaison_paused", liaison_id, f"after {misses} missed calls", liaison_id)
        log.info("liaison %s paused after %d missed offers", liaison_id, misses)
        text_liaison(ctx, liaison_id, paused_text(language, at, misses))
    else:
        text_liaison(ctx, liaison_id, missed_text(language, at))


def resume(ctx: Context, liaison_id: str, who: str) -> bool:
    """Take a liaison's pause off (their ON, a sergeant's On duty); whether they were paused."""
    if not Pauses(ctx.redis).resume(liaison_id):
        return False
    audit_live(ctx, who, "liaison_resumed", liaison_id, "pause lifted", liaison_id)
    return True
